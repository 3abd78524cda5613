"""Self-supervised and contrastive pretraining of vibration encoders (``faultcli pretrain``), and starting a
finetune from pretrained weights (``train.init``).

One job per module: ``init`` (load another run's weights into a new model), ``pool`` (the windows
pretrained on), ``objectives`` (views and losses), ``decoder`` (the masked-reconstruction head), ``probe``
(k-NN accuracy of the features), ``hooks`` (the engine's view of pretraining), ``task`` (the fit flow's),
``freeze`` (an encoder frozen for the first epochs of a finetune).
"""
