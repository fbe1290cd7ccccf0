"""Smoke tests: the harness brings up a real WordPress network, and missing parts follow policy."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import psycopg
import pytest
import redis
import requests

from tests.support.parts import require_part
from tests.wordpress.harness import PhpFailed, Site, WordPressNetwork, missing_parts

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 10


@pytest.mark.wordpress
def test_network_answers_rest_on_its_own_port(wp_network: WordPressNetwork) -> None:
    with requests.get(f"{wp_network.url}wp-json/", timeout=TIMEOUT_S) as response:
        assert response.status_code == 200
        index = response.json()
    assert index["url"] == wp_network.url.rstrip("/")
    assert "application-passwords" in index["authentication"]


@pytest.mark.wordpress
def test_super_admin_app_password_reads_itself_on_a_new_subsite(
    wp_network: WordPressNetwork, wp_site: Site
) -> None:
    with requests.get(
        f"{wp_site.url}wp-json/wp/v2/users/me?context=edit",
        auth=(wp_network.admin_user, wp_network.app_password),
        timeout=TIMEOUT_S,
    ) as response:
        assert response.status_code == 200, response.text
        me = response.json()
    assert me["username"] == wp_network.admin_user
    with requests.get(f"{wp_site.url}wp-json/", timeout=TIMEOUT_S) as response:
        assert response.json()["url"] == wp_site.url.rstrip("/")


@pytest.mark.wordpress
def test_site_owner_logs_in_to_the_dashboard_of_their_site(wp_site: Site) -> None:
    with requests.Session() as browser:
        # WordPress refuses a login without its test cookie, which the login page sets.
        browser.get(f"{wp_site.url}wp-login.php", timeout=TIMEOUT_S).close()
        with browser.post(
            f"{wp_site.url}wp-login.php",
            data={
                "log": wp_site.owner,
                "pwd": wp_site.owner_password,
                "wp-submit": "Log In",
                "redirect_to": f"{wp_site.url}wp-admin/",
                "testcookie": "1",
            },
            timeout=TIMEOUT_S,
        ) as response:
            assert response.status_code == 200
            assert response.url == f"{wp_site.url}wp-admin/"
            assert 'id="wpadminbar"' in response.text
            assert f"Site {wp_site.slug}" in response.text


@pytest.mark.wordpress
def test_eval_php_runs_inside_the_subsite_of_the_url(
    wp_network: WordPressNetwork, wp_site: Site
) -> None:
    assert wp_network.eval_php("echo get_current_blog_id();", wp_site.url) == str(wp_site.blog_id)
    assert wp_network.eval_php("echo get_current_blog_id();") == "1"
    owner_locale = "echo get_user_locale( $args['user'] );"
    assert wp_network.eval_php(owner_locale, args={"user": wp_site.owner_id}) == "en_US"


@pytest.mark.wordpress
def test_new_site_owner_keeps_the_locale_asked_for(wp_network: WordPressNetwork) -> None:
    site = wp_network.create_site(wp_network.next_slug("locale"), owner_locale="nb_NO")
    code = "echo get_user_locale( $args['user'] );"
    assert wp_network.eval_php(code, site.url, args={"user": site.owner_id}) == "nb_NO"


@pytest.mark.wordpress
def test_eval_php_raises_with_the_php_error(wp_network: WordPressNetwork) -> None:
    with pytest.raises(PhpFailed, match="no such thing here"):
        wp_network.eval_php("throw new RuntimeException( 'no such thing here' );")
    with pytest.raises(PhpFailed, match="undefined_function_of_the_harness"):
        wp_network.eval_php("undefined_function_of_the_harness();")


@pytest.mark.wordpress
def test_network_option_set_from_python_is_read_by_wordpress(wp_network: WordPressNetwork) -> None:
    wp_network.set_network_option("plan_bridge_harness_probe", {"max": 7, "on": True})
    code = "echo wp_json_encode( get_site_option( 'plan_bridge_harness_probe' ) );"
    assert wp_network.eval_php(code) == '{"max":7,"on":true}'


@pytest.mark.wordpress
def test_run_cron_runs_a_due_event_of_the_site(wp_network: WordPressNetwork, wp_site: Site) -> None:
    marker = f"plan_bridge_harness_cron_{wp_site.blog_id}"
    # A callback that exists in every request: a cron event whose hook sets an option.
    wp_network.eval_php(
        "wp_schedule_single_event( time() - 1, 'update_option_via_cron', array( $args['name'] ) );",
        wp_site.url,
        args={"name": marker},
    )
    mu_plugin = wp_network.docroot / "wp-content/mu-plugins/zz-harness-cron-probe.php"
    mu_plugin.write_text(
        "<?php add_action( 'update_option_via_cron', function ( $name ) "
        "{ update_option( $name, 'ran' ); } );\n"
    )
    try:
        wp_network.run_cron(wp_site.url)
        assert (
            wp_network.eval_php(
                "echo get_option( $args['name'] );", wp_site.url, args={"name": marker}
            )
            == "ran"
        )
    finally:
        mu_plugin.unlink()


@pytest.mark.wordpress
def test_plugin_stub_is_network_active_when_installed(wp_network: WordPressNetwork) -> None:
    require_part(
        "the plugin in the harness", wp_network.install_plugin, "PLAN_BRIDGE_HARNESS_SKIP_PLUGIN=1"
    )
    active = wp_network.eval_php(
        "echo implode( ',', array_keys( get_site_option( 'active_sitewide_plugins', array() ) ) );"
    )
    stub_exists = (ROOT / "wp-plugin-stub/plan-bridge.php").exists()
    assert ("plan-bridge/plan-bridge.php" in active.split(",")) == stub_exists


@pytest.mark.postgres
def test_postgres_url_is_a_database_of_this_session_only(postgres_url: str) -> None:
    # Other tests of the session migrate it, so it is not necessarily empty by now; what matters is
    # that it is this session's own database, never the server's shared one.
    with psycopg.connect(postgres_url, connect_timeout=5) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
    assert name is not None
    assert name[0].startswith(f"bridge_test_{os.getpid()}_")


@pytest.mark.redis
def test_redis_url_is_a_database_only_this_session_writes(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert not redis_url.endswith("/0") or "6379" not in redis_url
        client.set("plan-bridge:probe", "1")
        assert client.get("plan-bridge:probe") == b"1"
    finally:
        client.delete("plan-bridge:probe")
        client.close()


def test_missing_parts_name_the_debian_packages_and_make_deps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no php, no mariadb tools
    problem = missing_parts()
    assert problem is not None
    assert "php (php-cli)" in problem
    assert "mariadb-install-db (mariadb-server)" in problem
    assert "make deps" in problem


PART_TEST = textwrap.dedent(
    """
    from tests.support.parts import require_part

    def test_needs_a_part():
        require_part("Frobnicator", False, "frobnicate is not installed")
    """
)


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [("true", {"failed": 1}), ("", {"skipped": 1})],
    ids=["in_ci", "outside_ci"],
)
def test_missing_part_fails_in_ci_and_skips_elsewhere_with_the_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: dict[str, int]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_part=PART_TEST)
    result = pytester.runpytest_subprocess("-ra", "-p", "no:cacheprovider")
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*Frobnicator unavailable: frobnicate is not installed*"])
