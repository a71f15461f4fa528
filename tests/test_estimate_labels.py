"""The cost estimate says which device its hours are of, lists every assumed constant with its
source, and counts moving weights (downloads, checkpoint round trips)."""

import json

from resurface.book import costs


def test_the_label_names_the_device_the_rates_were_measured_on(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"device": "NVIDIA H200", "measured_at": "2026-12-04",
                             "throughput": {"train": {"hf": 0.2}}}))
    text = costs.markdown_table("paper", measured_file=f)
    assert "measured utilisations come from an NVIDIA H200, 2026-12-04" in text
    assert "same bf16 peak" in text  # and what that means for an H100
    none = costs.markdown_table("paper", measured_file=tmp_path / "absent.json")
    assert "utilisations assumed" in none and "H200" not in none


def test_every_assumed_constant_has_a_row_with_its_source_until_measured(tmp_path):
    absent = costs.assumptions(tmp_path / "absent.json")
    names = [k for k, _, _ in absent]
    assert "THROUGHPUT[train][hf]" in names and "THROUGHPUT[process_start_s][vllm]" in names
    assert {"OTHER[" + k + "]" for k in costs.OTHER} <= set(names)
    assert {"TRANSFER[" + k + "]" for k in costs.TRANSFER} <= set(names)
    assert all(src.startswith("assumed") for _, _, src in absent)
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"throughput": {"train": {"hf": 0.2}}}))
    assert "THROUGHPUT[train][hf]" not in [k for k, _, _ in costs.assumptions(f)]
    text = costs.markdown_table("paper", measured_file=f)
    assert "| `THROUGHPUT[prefill][vllm]` | 0.35 |" in text


def test_downloads_and_checkpoint_round_trips_are_counted(tmp_path):
    none = tmp_path / "absent.json"
    rows = costs.estimate("paper", none)[0]
    moves = costs.transfer_hours("paper", rows=rows, measured_file=none)
    assert moves["model downloads"] > 0 and moves["checkpoint round trips"] > 0
    total = next(r for r in rows if r["figure"] == "total")["new_h"]
    text = costs.markdown_table("paper", measured_file=none)
    assert f"| **total with transfers** | | | {costs._h(total + sum(moves.values()))} |" in text
    # the in-process engine writes no checkpoint per epoch
    hf = costs.transfer_hours("paper", overrides={"eval_engine": "hf"}, measured_file=none)
    assert hf["checkpoint round trips"] == 0 and hf["model downloads"] == moves["model downloads"]
