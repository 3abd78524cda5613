"""prepare_images end to end on small generated image sets: labels, report, splits, cache, errors."""

import json

import cv2
import numpy as np
import pytest

from faultcli.config.schema import DataConfig
from faultcli.data.crops import crop_rule_for
from faultcli.data.images import ImageDataset, load_image, prepare_images
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter

TASK = "image-classification"


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _image(seed, shape=(20, 20), colour=False):
    rng = np.random.default_rng(seed)
    gray = rng.integers(0, 255, shape, dtype=np.uint8)
    if not colour:
        return gray
    return np.stack([gray, np.roll(gray, 3), 255 - gray], axis=2)


def class_folders(root, counts, shape=(20, 20), ext=".png"):
    for c, (name, n) in enumerate(counts.items()):
        for i in range(n):
            _write(root / name / f"{i}{ext}", _image(100 * c + i, shape))
    return root


def cfg(root, tmp_path, **kw):
    base = {
        "root": str(root),
        "cache_dir": str(tmp_path / "cache"),
        "split": "stratified",
        "fractions": [0.6, 0.2, 0.2],
        "label_from": "folder",
    }
    return DataConfig(**{**base, **kw})


def prep(data_cfg, task=TASK):
    return prepare_images(data_cfg, task, NullReporter())


def write_voc(path, filename, boxes):
    objects = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>"
        f"<ymax>{b[3]}</ymax></bndbox></object>"
        for name, b in boxes
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><filename>{filename}</filename>{objects}</annotation>")


class Recorder(NullReporter):
    def __init__(self):
        self.tasks, self.infos = [], []

    def task(self, description, total):
        self.tasks.append((description, total))
        return super().task(description, total)

    def info(self, message):
        self.infos.append(message)


def test_folder_classes_with_spaces_resize_and_gray(tmp_path):
    root = class_folders(tmp_path / "set", {"slag inclusion": 10, "red iron": 10})
    _write(root / "red iron" / "odd.jpg", _image(7, (22, 18)))
    reporter = Recorder()
    ds = prepare_images(cfg(root, tmp_path, image_size=[16, 16]), TASK, reporter)
    assert ds.classes == ["red iron", "slag inclusion"]
    assert ds.images.shape == (21, 16, 16, 1) and ds.images.dtype == np.uint8
    assert ds.manifest["color"] == "gray" and ds.manifest["channels"] == 1
    odd = ds.items[ds.items["file"] == "red iron/odd.jpg"].iloc[0]
    assert (odd["height"], odd["width"], odd["label"], odd["class_index"]) == (22, 18, "red iron", 0)
    assert ("reading images", 21) in reporter.tasks
    assert ds.edges is None and ds.masks is None
    assert json.loads((ds.path / "manifest.json").read_text())["kind"] == "images"


def test_auto_color_is_rgb_when_any_image_has_colour(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 5, "b": 5})
    _write(root / "a" / "colour.png", _image(1, colour=True))
    ds = prep(cfg(root, tmp_path, fractions=[0.5, 0.0, 0.5]))
    assert ds.manifest["color"] == "rgb" and ds.images.shape[-1] == 3
    gray_rows = ds.items.index[ds.items["file"] != "a/colour.png"]
    assert (ds.images[gray_rows, ..., 0] == ds.images[gray_rows, ..., 2]).all()
    forced = prep(cfg(root, tmp_path, fractions=[0.5, 0.0, 0.5], color="gray"))
    assert forced.images.shape[-1] == 1


def test_different_sizes_need_image_size(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 4, "b": 4})
    _write(root / "b" / "big.png", _image(1, (30, 20)))
    with pytest.raises(DataError, match=r"data.image_size = \[20, 20\]"):
        prep(cfg(root, tmp_path, fractions=[0.5, 0.0, 0.5]))


def test_second_prepare_is_a_cache_hit_and_a_changed_file_is_not(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 5, "b": 5})
    first = prep(cfg(root, tmp_path))
    second = prep(cfg(root, tmp_path))
    assert not first.cache_hit and second.cache_hit and first.path == second.path
    _write(root / "a" / "0.png", _image(999))
    third = prep(cfg(root, tmp_path))
    assert not third.cache_hit and third.path != first.path
    assert not list((tmp_path / "cache" / "images").glob(".staging*"))  # published, nothing half-written left


def test_prefix_labels_voc_boxes_and_report(tmp_path):
    root = tmp_path / "neu"
    for name in ("crazing", "rolled-in_scale"):
        for i in range(1, 6):
            _write(root / "images" / f"{name}_{i}.jpg", _image(i, (20, 20)))
            write_voc(root / "annotations" / f"{name}_{i}.xml", f"{name}_{i}", [(name, (1, 2, 10, 12))])
    _write(root / "images" / "readme.png", _image(0))  # no _<number>: no label
    write_voc(root / "annotations" / "crazing_99.xml", "crazing_99.jpg", [("crazing", (1, 1, 5, 5))])
    ds = prep(cfg(root, tmp_path, label_from="prefix", fractions=[0.6, 0.2, 0.2]))
    assert ds.classes == ["crazing", "rolled-in_scale"] and len(ds.items) == 10
    report = ds.manifest["report"]
    assert report["files_without_labels"] == ["images/readme.png"]
    assert report["labels_without_files"] == ["annotations/crazing_99.xml"]
    assert report["files_without_boxes"] == ["images/readme.png"]
    assert ds.manifest["boxes"]["images/crazing_1.jpg"] == [
        {"label": "crazing", "xmin": 1, "ymin": 2, "xmax": 10, "ymax": 12}
    ]
    assert any("without a label" in note for note in ds.manifest["notes"])


def test_labels_csv_priority_and_report_both_directions(tmp_path):
    root = tmp_path / "flat"
    for i in range(8):
        _write(root / f"img{i}.png", _image(i))
    rows = ["file,label,value"] + [f"img{i}.png,{'good' if i % 2 else 'bad'},1" for i in range(7)]
    rows += ["img0.png,good,9", "img1.png,bad,0.1", "ghost.png,bad,1"]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    ds = prep(
        cfg(
            root,
            tmp_path,
            label_from="csv",
            labels_csv=str(tmp_path / "labels.csv"),
            label_priority=["bad"],
            fractions=[0.5, 0.0, 0.5],
        )
    )
    labels = dict(zip(ds.items["file"], ds.items["label"], strict=True))
    assert labels["img0.png"] == "bad" and labels["img1.png"] == "bad"  # priority beats the larger value
    assert labels["img3.png"] == "good"
    assert ds.manifest["report"]["labels_without_files"] == ["labels.csv: ghost.png"]
    assert ds.manifest["report"]["files_without_labels"] == ["img7.png"]


def test_corrupt_image_stops_unless_allowed(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 5, "b": 5})
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(DataError, match=r"b/broken.jpg.*data.allow_corrupt = true"):
        prep(cfg(root, tmp_path))
    ds = prep(cfg(root, tmp_path, allow_corrupt=True))
    assert ds.manifest["report"]["undecodable"] == ["b/broken.jpg"]
    assert len(ds.items) == 10 and "b/broken.jpg" not in set(ds.items["file"])


def test_stratified_split_is_reproducible_and_stratified(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 20, "b": 20, "c": 10})
    ds = prep(cfg(root, tmp_path, seed=3))
    again = prep(cfg(root, tmp_path / "other", seed=3))
    assert not again.cache_hit
    assert np.array_equal(ds.items["split"], again.items["split"])
    assert ds.manifest["counts"]["train"] == {"a": 12, "b": 12, "c": 6}
    assert ds.manifest["counts"]["test"] == {"a": 4, "b": 4, "c": 2}
    assert ds.manifest["counts"]["val"] == {"a": 4, "b": 4, "c": 2}
    other_seed = prep(cfg(root, tmp_path, seed=4))
    assert not np.array_equal(ds.items["split"], other_seed.items["split"])
    total = sum(len(ds.indices(s)) for s in ("train", "val", "test"))
    assert total == len(ds.indices("all")) == 50


def test_by_file_is_stratified_and_recording_time_is_refused(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 10, "b": 10})
    ds = prep(cfg(root, tmp_path, split="by-file"))
    assert ds.manifest["split"] == "stratified"
    assert ds.manifest["counts"]["test"] == {"a": 2, "b": 2}
    with pytest.raises(ConfigError, match="data.split = 'stratified'"):
        prep(cfg(root, tmp_path, split="recording-time"))


def test_kfold_assigns_stratified_folds(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 12, "b": 8})
    ds = prep(cfg(root, tmp_path, split="kfold", folds=4))
    assert sorted(set(ds.items["split"])) == [0, 1, 2, 3]
    assert all(counts == {"a": 3, "b": 2} for counts in ds.manifest["counts"].values())
    test, val, train = ds.indices("test", 1), ds.indices("val", 1), ds.indices("train", 1)
    assert (ds.items["split"][test] == 1).all() and (ds.items["split"][val] == 2).all()
    assert len(train) == 10 and not set(train) & (set(test) | set(val))
    assert len(ds.manifest["norm_folds"]) == 4 and ds.norm(2) != ds.norm(0)


def test_data_classes_order_unknown_and_outside(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 5, "b": 5, "c": 5})
    ds = prep(cfg(root, tmp_path, classes=["c", "a"]))
    assert ds.classes == ["c", "a"] and set(ds.items["label"]) == {"a", "c"}
    assert len(ds.manifest["report"]["outside_classes"]) == 5
    assert (ds.items["class_index"][ds.items["label"] == "c"] == 0).all()
    with pytest.raises(DataError, match="data.classes lists 'dog'"):
        prep(cfg(root, tmp_path, classes=["a", "dog"]))


def test_missing_and_empty_root(tmp_path):
    with pytest.raises(DataError, match="data.root"):
        prep(cfg(tmp_path / "nowhere", tmp_path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        prep(cfg(tmp_path / "empty", tmp_path))


def test_norm_uses_train_images_only(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 10, "b": 10})
    ds = prep(cfg(root, tmp_path, image_size=[12, 12]))
    train = np.asarray(ds.images[ds.indices("train")], dtype=np.float64) / 255
    mean, std = ds.norm()
    assert np.allclose(mean, [train.mean()]) and np.allclose(std, [train.std()])
    everything = np.asarray(ds.images, dtype=np.float64) / 255
    assert not np.isclose(mean[0], everything.mean(), rtol=0, atol=1e-9)


def test_edges_crops_and_load_image_match_prep(tmp_path):
    root = tmp_path / "set"
    for i in range(6):
        half = np.zeros((24, 24), dtype=np.uint8)
        half[:, 12:] = 220  # right half bright
        half[4:8, 2:6] = 120 + i  # a small mark on the dark side
        _write(root / "left" / f"{i}.png", half)
        _write(root / "whole" / f"{i}.png", half)
    crops = {"left": "left:0.5", "*": "none"}
    ds = prep(cfg(root, tmp_path, image_size=[16, 16], edges=True, crops=crops, fractions=[0.5, 0.0, 0.5]))
    assert ds.edges.shape == (12, 16, 16) and set(np.unique(ds.edges).tolist()) <= {0, 255}
    left = ds.items.index[ds.items["label"] == "left"]
    whole = ds.items.index[ds.items["label"] == "whole"]
    assert ds.images[left].max() < 200  # the bright half was cropped away before resizing
    assert ds.images[whole].max() > 200
    for row in (left[0], whole[0]):
        item = ds.items.iloc[row]
        again = load_image(root / item["file"], ds.manifest["color"], crop_rule_for(item["label"], crops), [16, 16])
        assert np.array_equal(again, ds.images[row])
    with pytest.raises(ConfigError, match="data.crops names class 'right'"):
        prep(cfg(root, tmp_path, crops={"right": "left:0.5"}))


def test_load_image_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_image(tmp_path / "none.png", "gray")
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="cannot be decoded"):
        load_image(tmp_path / "bad.png", "gray")
    _write(tmp_path / "c.png", _image(1, (10, 14), colour=True))
    assert load_image(tmp_path / "c.png", "rgb", "center:0.5", [8, 8]).shape == (8, 8, 3)
    assert load_image(tmp_path / "c.png", "auto").shape == (10, 14, 3)


def test_loader_reads_back_the_folder(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 5, "b": 5})
    ds = prep(cfg(root, tmp_path, edges=True))
    loaded = ImageDataset.load(ds.path)
    assert loaded.classes == ds.classes and loaded.edges is not None
    assert list(loaded.items.columns) == ["item", "file", "sha1", "label", "class_index", "split", "height", "width"]
    assert np.array_equal(loaded.labels_for(loaded.indices("test")), ds.items["class_index"][ds.indices("test")])
    with pytest.raises(DataError, match="run faultcli prep"):
        ImageDataset.load(tmp_path)
