"""Settings through pydantic-settings: PATHWAY_* over secret files over the TOML file; secrets are
SecretStr and never shown (repr, logs, `pathway health`)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from pathway.domain.errors import InvalidInput
from pathway.settings import load_settings

WEBHOOK = [{"channel": "webhook", "to": "https://hooks.example.org/pathway"}]


def test_secrets_come_from_files_named_after_the_setting(tmp_path: Path) -> None:
    (tmp_path / "PATHWAY_SMTP_PASSWORD").write_text("s3cret-smtp\n")
    (tmp_path / "webhook_secret").write_text("whsec-from-file")
    (tmp_path / "secret_key").write_text("session-key")

    s = load_settings({"PATHWAY_SECRETS_DIR": str(tmp_path), "PATHWAY_NOTIFY": json.dumps(WEBHOOK)})

    assert isinstance(s.smtp_password, SecretStr)
    assert s.smtp_password.get_secret_value() == "s3cret-smtp"
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == "whsec-from-file"
    assert s.secret_key is not None and s.secret_key.get_secret_value() == "session-key"


def test_the_environment_wins_over_a_secret_file_which_wins_over_the_settings_file(tmp_path: Path) -> None:
    secrets, config = tmp_path / "secrets", tmp_path / "settings.toml"
    secrets.mkdir()
    (secrets / "smtp_password").write_text("from-file")
    (secrets / "smtp_user").write_text("mailer")
    config.write_text('smtp_password = "from-toml"\nsmtp_user = "toml-user"\nsweep_minutes = 7\n')
    base = {"PATHWAY_CONFIG": str(config), "PATHWAY_SECRETS_DIR": str(secrets)}

    s = load_settings(base)
    assert s.smtp_password is not None and s.smtp_password.get_secret_value() == "from-file"
    assert s.smtp_user == "mailer" and s.sweep_minutes == 7

    s = load_settings({**base, "PATHWAY_SMTP_PASSWORD": "from-env"})
    assert s.smtp_password is not None and s.smtp_password.get_secret_value() == "from-env"


def test_a_missing_secrets_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="PATHWAY_SECRETS_DIR"):
        load_settings({"PATHWAY_SECRETS_DIR": str(tmp_path / "nowhere")})


def test_a_secret_never_shows_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    s = load_settings(
        {
            "PATHWAY_SMTP_PASSWORD": "hunter2-smtp",
            "PATHWAY_SECRET_KEY": "hunter2-session",
            "PATHWAY_WEBHOOK_SECRET": "hunter2-webhook",
        }
    )
    with caplog.at_level(logging.INFO):
        logging.getLogger("pathway.test").info("settings: %s %r", s, s)
    shown = repr(s) + str(s) + caplog.text + s.model_dump_json()
    assert "hunter2" not in shown
    assert "**********" in repr(s)


def test_pathway_health_never_prints_a_secret(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "PATHWAY_TIMEZONE": "Europe/London",
        "PATHWAY_SMTP_PASSWORD": "hunter2-smtp",
        "PATHWAY_SECRET_KEY": "hunter2-session",
    }
    pathway = Path(sys.executable).parent / "pathway"
    subprocess.run([pathway, "init"], env=env, capture_output=True, check=True, timeout=120)
    for args in (["health"], ["health", "--json"]):
        done = subprocess.run([pathway, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        assert "hunter2" not in done.stdout + done.stderr
