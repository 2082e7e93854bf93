"""tools.stack_files: the workflows read each stack's region from its stack file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.stack_files import USAGE, main, read_stack_config, stack_region


@pytest.mark.parametrize(
    ("stack", "region"),
    [
        pytest.param("vendor", "us-east-2", id="vendor"),
        pytest.param("customer", "us-west-2", id="customer"),
    ],
)
def test_stack_region_reads_the_committed_stack_file(stack: str, region: str) -> None:
    assert stack_region(stack) == region


def test_stack_region_without_region_names_the_file_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.edge.yaml").write_text("config:\n  a:b: 1\n", encoding="utf-8")

    with pytest.raises(ValueError) as error:
        stack_region("edge", tmp_path)

    assert str(error.value) == (
        "Pulumi.edge.yaml: `aws:region` is not set; set it with "
        "`pulumi config set aws:region <region> --stack edge`."
    )


def test_read_stack_config_without_config_mapping_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.empty.yaml").write_text("secretsprovider: passphrase\n", encoding="utf-8")

    with pytest.raises(ValueError) as error:
        read_stack_config("empty", tmp_path)

    assert str(error.value) == "Pulumi.empty.yaml: expected a `config:` mapping, got None."


def test_main_region_prints_the_region(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["region", "vendor"]) == 0
    assert capsys.readouterr().out == "us-east-2\n"


def test_main_with_unknown_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["account", "vendor"]) == 2
    assert capsys.readouterr().err == USAGE + "\n"


def test_main_with_missing_stack_file_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["region", "nope"]) == 1
    assert "Pulumi.nope.yaml" in capsys.readouterr().err
