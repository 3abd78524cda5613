"""Prompt templates: named and custom templates, the structured sentence from CWRU and SEU class names,
ensembles per class, metadata phrases, and the prompt file's errors."""

from __future__ import annotations

import pytest

from faultcli.clip import check_template, class_prompts, parse_class, read_prompt_file, structured_prompt
from faultcli.errors import ConfigError, UserError

CWRU = ["normal", "ball_007", "ball_014", "ball_021", "inner_007", "inner_014", "inner_021", "outer_007", "outer_014",
        "outer_021"]  # fmt: skip
SEU = ["health", "ball", "inner", "outer", "comb"]


def test_named_templates_fill_the_class_name_as_words():
    prompts = class_prompts(["ball_007", "health"], ["a-bearing", "plain"])
    assert prompts == {"ball_007": ["A ball 007 bearing", "ball 007"], "health": ["A health bearing", "health"]}


def test_custom_template_needs_exactly_one_placeholder():
    assert class_prompts(["inner"], ["vibration of a bearing with {} damage"]) == {
        "inner": ["vibration of a bearing with inner damage"]
    }
    for bad in ("no placeholder", "{} and {}", "a {name} bearing", "a {} bearing {0}", "a {} bearing }"):
        with pytest.raises(ConfigError) as err:
            check_template(bad)
        assert "\n" not in str(err.value) and "exactly one {}" in str(err.value)


def test_structured_prompts_spell_out_every_cwru_class():
    prompts = class_prompts(CWRU, ["structured"])
    assert prompts["normal"] == ["A healthy bearing with no fault."]
    assert prompts["ball_007"] == [
        "A bearing with a ball (rolling element) fault, 0.007 inches (0.178 mm) in diameter."
    ]
    assert prompts["inner_014"] == ["A bearing with an inner race fault, 0.014 inches (0.356 mm) in diameter."]
    assert prompts["outer_021"] == ["A bearing with an outer race fault, 0.021 inches (0.533 mm) in diameter."]
    assert len({p[0] for p in prompts.values()}) == len(CWRU)  # every class gets its own sentence


def test_structured_prompt_reads_raw_cwru_codes_with_clock_position():
    text, note = structured_prompt("OR007@6")
    assert text == "A bearing with an outer race fault centred at 6 o'clock, 0.007 inches (0.178 mm) in diameter."
    assert note is None
    info = parse_class("IR014")
    assert info.locations == ("inner",) and info.size_in == pytest.approx(0.014) and info.known


def test_structured_prompts_for_seu_names_and_the_combined_fault():
    prompts = class_prompts(SEU, ["structured"])
    assert prompts["health"] == ["A healthy bearing with no fault."]
    assert prompts["comb"] == ["A bearing with a combined inner race and outer race fault."]
    assert prompts["ball"] == ["A bearing with a ball (rolling element) fault."]


def test_metadata_adds_load_and_speed_to_the_structured_prompt_only():
    metadata = {"inner_014": {"load_hp": 2, "rpm": 1750}, "comb": {"speed_hz": 30, "load_v": 2}}
    prompts = class_prompts(["inner_014", "comb"], ["structured", "a-bearing"], metadata)
    assert prompts["inner_014"] == [
        "A bearing with an inner race fault, 0.014 inches (0.356 mm) in diameter, "
        "running at 1750 rpm under a 2 HP load.",
        "A inner 014 bearing",
    ]
    assert prompts["comb"][0].endswith("running at 30 Hz shaft speed under a 2 V load.")


@pytest.mark.parametrize(
    "metadata, words",
    [
        ({"ball_9": {"load_hp": 1}}, "not a class"),
        ({"ball": {"torque": 1}}, "unknown key"),
        ({"ball": {"rpm": float("nan")}}, "finite number"),
    ],
)
def test_bad_metadata_is_one_line_config_error(metadata, words):
    with pytest.raises(ConfigError, match=words) as err:
        class_prompts(["ball"], ["structured"], metadata)
    assert "\n" not in str(err.value)


def test_metadata_without_the_structured_template_is_an_error():
    with pytest.raises(ConfigError, match="only read by the structured template"):
        class_prompts(["ball"], ["a-bearing"], {"ball": {"rpm": 1797}})


def test_unknown_class_name_raises_or_is_noted_never_silently_guessed():
    with pytest.raises(ConfigError, match="'spall'") as err:
        class_prompts(["normal", "spall"], ["structured"])
    assert "\n" not in str(err.value)
    notes: list[str] = []
    prompts = class_prompts(["normal", "spall", "health20_0"], ["structured"], notes=notes)
    assert prompts["spall"] == ["A bearing in the spall state."]
    assert prompts["health20_0"] == ["A healthy bearing with no fault."]
    assert len(notes) == 2
    assert "no healthy or fault-location word" in notes[0] and "A bearing in the spall state." in notes[0]
    assert "'20', '0'" in notes[1]  # the speed and load digits of an SEU file name are said to be left out


def test_contradictory_names_are_not_known():
    assert not parse_class("normal_inner").known
    assert not parse_class("normal_007").known
    assert parse_class("rolling_element_fault").locations == ("ball",)


def test_prompt_ensemble_keeps_order_and_drops_repeats():
    prompts = class_prompts(["ball"], ["a-bearing", "plain", "{}", "structured"])
    assert prompts["ball"] == ["A ball bearing", "ball", "A bearing with a ball (rolling element) fault."]


def test_class_list_and_template_list_are_checked():
    with pytest.raises(ConfigError):
        class_prompts([], ["plain"])
    with pytest.raises(ConfigError, match="repeats"):
        class_prompts(["ball", "ball"], ["plain"])
    with pytest.raises(ConfigError, match="no prompt template"):
        class_prompts(["ball"], [])


def test_read_prompt_file_groups_lines_per_class(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text(
        "# class: prompt\nball: a rolling element fault\nball: a ball defect: spalled\nhealth : a healthy bearing\n",
        encoding="utf-8",
    )
    assert read_prompt_file(path, ["health", "ball"]) == {
        "health": ["a healthy bearing"],
        "ball": ["a rolling element fault", "a ball defect: spalled"],
    }


@pytest.mark.parametrize(
    "text, words",
    [
        ("ball: a ball fault\n\nhealth: fine\n", "line 2 is empty"),
        ("ball: a ball fault\ncage: a cage fault\nhealth: fine\n", "line 2: unknown class 'cage'"),
        ("ball a ball fault\nhealth: fine\n", "line 1"),
        ("ball:   \nhealth: fine\n", "line 1"),
        ("ball: a ball fault\n", "no prompt for class(es) health"),
    ],
)
def test_prompt_file_errors_name_the_line(tmp_path, text, words):
    path = tmp_path / "prompts.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        read_prompt_file(path, ["ball", "health"])
    assert words in str(err.value) and "\n" not in str(err.value)


def test_missing_prompt_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_prompt_file(tmp_path / "nope.txt", ["ball"])
