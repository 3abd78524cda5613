"""Pascal VOC reader: boxes, names, pairing with images by stem, and bad files."""

import pytest

from faultcli.data.readers.voc import match_annotations, read_voc, read_voc_folder
from faultcli.errors import DataError

VOC = """<annotation><folder>x</folder><filename>{filename}</filename>
<size><width>200</width><height>200</height><depth>1</depth></size>
{objects}</annotation>"""
OBJ = (
    "<object><name>{name}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>"
    "<ymax>{b[3]}</ymax></bndbox></object>"
)


def write_voc(path, filename, boxes):
    objects = "".join(OBJ.format(name=name, b=box) for name, box in boxes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VOC.format(filename=filename, objects=objects))


def test_read_boxes_and_names(tmp_path):
    write_voc(tmp_path / "a_1.xml", "a_1.jpg", [("crazing", (2, 3, 50, 60)), ("patches", (1, 1, 9.0, 9))])
    ann = read_voc(tmp_path / "a_1.xml")
    assert ann.filename == "a_1.jpg"
    assert ann.labels == ["crazing", "patches"]
    assert ann.boxes[0] == {"label": "crazing", "xmin": 2, "ymin": 3, "xmax": 50, "ymax": 60}
    assert ann.boxes[1]["xmax"] == 9


def test_pairs_by_xml_stem_even_without_extension_in_filename(tmp_path):
    write_voc(tmp_path / "ann" / "p_104.xml", "p_104", [("patches", (1, 2, 3, 4))])
    write_voc(tmp_path / "ann" / "renamed.xml", "q_7.jpg", [("q", (1, 2, 3, 4))])
    write_voc(tmp_path / "ann" / "ghost_1.xml", "ghost_1.jpg", [("g", (1, 2, 3, 4))])
    annotations = read_voc_folder(tmp_path)
    matched, orphans = match_annotations(annotations, ["img/p_104.jpg", "img/q_7.jpg", "img/r_1.jpg"])
    assert set(matched) == {"img/p_104.jpg", "img/q_7.jpg"}
    assert [a.xml.name for a in orphans] == ["ghost_1.xml"]


def test_bad_voc_files(tmp_path):
    (tmp_path / "broken.xml").write_text("<annotation><object>")
    with pytest.raises(DataError, match="broken.xml"):
        read_voc(tmp_path / "broken.xml")
    (tmp_path / "other.xml").write_text("<svg></svg>")
    with pytest.raises(DataError, match="not a Pascal VOC"):
        read_voc(tmp_path / "other.xml")
    write_voc(tmp_path / "nan.xml", "n.jpg", [("x", ("a", 1, 2, 3))])
    with pytest.raises(DataError, match="xmin"):
        read_voc(tmp_path / "nan.xml")
