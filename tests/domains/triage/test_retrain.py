"""The learning loop's last step: `zhiyi triage retrain` trains on the shipped corpus plus stored
outcomes, and the engine then uses the retrained model (while the shipped data is unchanged)."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from tests.factories import identity as accounts
from zhiyi.cli import app
from zhiyi.core import clock
from zhiyi.core.config import Settings, get_settings, use
from zhiyi.core.db import Database
from zhiyi.domains.triage import classifier, engine
from zhiyi.domains.triage.models import TriageAssessment

TEXT = "三伏贴在哪里贴"


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(classifier.MODEL_DIR_ENV, str(tmp_path / "models"))
    engine.reload()
    yield tmp_path / "models"
    engine.reload()  # later tests use the base model again


async def _doctors_said(url: str, n: int) -> None:
    """`n` assessments of TEXT that a doctor reassigned to acupuncture, stored at `url`."""
    database = Database(Settings(database_url=url))
    try:
        async with database.sessionmaker() as session:
            doctor = await accounts.account(session, username="retrain-doctor", roles={"doctor"})
            now = clock.now()
            session.add_all(
                TriageAssessment(
                    account_id=doctor.id,
                    text=TEXT,
                    language="zh_CN",
                    outcome="departments",
                    created_at=now,
                    reassigned_code="TCM.ACU",
                    reassigned_by_account_id=doctor.id,
                    reassigned_at=now,
                )
                for _ in range(n)
            )
            await session.commit()
    finally:
        await database.dispose()


def test_retrain_learns_what_doctors_said_in_the_database(model_dir, tmp_path):
    """One training (a minute of the suite): the command reads the stored outcomes, and the engine then
    answers as the doctors said."""
    url = f"sqlite:///{tmp_path / 'retrain.db'}"
    runner = CliRunner()
    before = get_settings()
    try:
        assert runner.invoke(app, ["migrate", "--db", url]).exit_code == 0
        asyncio.run(_doctors_said(url, 30))
        result = runner.invoke(app, ["triage", "retrain", "--db", url])
    finally:
        use(before)  # --db switches the process's settings
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["outcomes"] == 30
    assert (model_dir / classifier.RETRAINED).exists()
    engine.reload()
    assert engine.assess(TEXT).suggestions[0].code == "TCM.ACU"
