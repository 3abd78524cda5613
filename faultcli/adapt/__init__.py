"""Domain adaptation inside ``faultcli finetune`` (``[adapt]``): unlabelled target windows read like the
recipe's data, and the methods that use them (AdaBN, MMD, CORAL, DANN).

One job per module: ``unlabelled`` (read a folder without labels), ``target`` (the target windows of a
recipe), ``hooks`` (alignment losses beside the classification loss), ``adabn`` (the post-fit step),
``report`` (the last epoch's test figures beside the chosen epoch's).
"""

# methods that train on (source batch, target batch) pairs; adabn is a post-fit step
PAIRED = ("mmd", "coral", "dann")
