"""The learning loop's last step: `zhiyi triage retrain` trains on the shipped corpus plus stored
outcomes, and the engine then uses the retrained model (while the shipped data is unchanged)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from zhiyi.cli import app
from zhiyi.core.config import get_settings, use
from zhiyi.domains.triage import classifier, engine

TEXT = "三伏贴在哪里贴"


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(classifier.MODEL_DIR_ENV, str(tmp_path / "models"))
    engine.reload()
    yield tmp_path / "models"
    engine.reload()  # later tests use the base model again


def test_outcomes_teach_the_model(model_dir):
    outcomes = [classifier.Example(text=TEXT, department="TCM.ACU")] * 30
    path = classifier.retrain(outcomes)
    assert path.exists() and path.parent == model_dir
    engine.reload()
    assert engine.assess(TEXT).suggestions[0].code == "TCM.ACU"


def test_retrain_command_reads_the_database(model_dir, tmp_path):
    url = f"sqlite:///{tmp_path / 'retrain.db'}"
    runner = CliRunner()
    before = get_settings()
    try:
        assert runner.invoke(app, ["migrate", "--db", url]).exit_code == 0
        result = runner.invoke(app, ["triage", "retrain", "--db", url])
    finally:
        use(before)  # --db switches the process's settings
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["outcomes"] == 0
    assert (model_dir / classifier.RETRAINED).exists()
