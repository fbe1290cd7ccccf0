"""A real WordPress multisite network on loopback, for tests.

`WordPressNetwork(...).start()` brings up, in a lab directory of its own:

- a private MariaDB (mariadb-install-db + mariadbd --no-defaults; own datadir, socket and pid;
  TCP on 127.0.0.1 only);
- a writable copy of Debian's WordPress (`cp -rL /usr/share/wordpress`) with its own
  wp-config.php, installed and turned into a subdirectory network without wp-cli
  (tests/wordpress/php/*.php);
- the test-only mu-plugin tests/wordpress/mu-plugins/plan-bridge-harness.php (port in the network
  domain, Application Passwords over http, mail to logs/mail.jsonl);
- wp-plugin-stub/ copied to wp-content/plugins/plan-bridge and network-activated, if
  wp-plugin-stub/plan-bridge.php exists;
- `php -S` with 4 workers and a multisite router (tests/wordpress/router.php), in its own
  process group.

Measured on a 2-core Debian 12 box (WordPress 6.1.9, PHP 8.2, MariaDB 10.11) shared with other
test runs (load average about 3), lab on /dev/shm, plugin installed; `python -m
tests.wordpress.harness [ROUNDS]` prints these and the per-step times:
  bootstrap    cold 2.8 s (page cache dropped), warm 1.8-2.3 s
               (with the lab on the disk instead of tmpfs: 3-6 s on that busy disk)
  create_site  0.20-0.30 s, outliers 0.6 s (about 450 queries for the new site's tables and
               options, plus 0.08 s to load WordPress in PHP CLI)
  eval_php     0.09-0.14 s
  stop         0.03-0.05 s
The lab dir holds about 110 MB (tree + database); the caller owns it and removes it.
The web server runs under setsid (start_new_session) and is stopped as a process group.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.parts import INSTALL_HINT, missing_commands
from tests.support.ports import free_port
from tests.support.processes import ServerFailed, log_tail, start_server, stop_server
from tests.support.processes import wait_until_listening as _wait_until_listening

HERE = Path(__file__).resolve().parent
PHP_SCRIPTS = HERE / "php"
ROUTER = HERE / "router.php"
MU_PLUGINS = HERE / "mu-plugins"
WORDPRESS_SOURCE = Path("/usr/share/wordpress")
PLUGIN_SLUG = "plan-bridge"
PLUGIN_FILE = f"{PLUGIN_SLUG}/plan-bridge.php"
HOST = "127.0.0.1"

# What the harness needs, and the Debian package that provides it.
REQUIRED_COMMANDS = {
    "php": "php-cli",
    "mariadb-install-db": "mariadb-server",
    "/usr/sbin/mariadbd": "mariadb-server",
    "mariadb": "mariadb-client (with mariadb-server)",
}
REQUIRED_FILES = {
    WORDPRESS_SOURCE / "wp-load.php": "wordpress",
    WORDPRESS_SOURCE / "wp-content/themes/twentytwentythree/style.css": (
        "wordpress-theme-twentytwentythree"
    ),
}
REQUIRED_PHP_MODULES = {
    "mysqli": "php-mysql",
    "xml": "php-xml",
    "mbstring": "php-mbstring",
    "curl": "php-curl",
}


class HarnessError(RuntimeError):
    """The WordPress harness could not do what was asked; the message says what and where."""


class PartsMissing(HarnessError):
    """Binaries or packages the harness needs are not installed."""


class PhpFailed(HarnessError):
    """A PHP script run inside WordPress failed; the message carries its stderr and stdout."""


@dataclass(frozen=True)
class Site:
    """A subsite of the network and its owner (an administrator of that site only)."""

    blog_id: int
    slug: str
    url: str  # with a trailing slash
    owner: str  # user login
    owner_password: str
    owner_id: int
    owner_email: str


def missing_parts() -> str | None:
    """Why the harness cannot run here (naming Debian packages), or None when it can."""
    problems = [
        f"{command} ({REQUIRED_COMMANDS[command]})"
        for command in missing_commands(*REQUIRED_COMMANDS)
    ]
    problems += [
        f"{path} ({package})" for path, package in REQUIRED_FILES.items() if not path.exists()
    ]
    if shutil.which("php"):
        result = subprocess.run(
            ["php", "-m"], capture_output=True, text=True, timeout=30, check=False
        )
        loaded = {line.strip().lower() for line in result.stdout.splitlines()}
        problems += [
            f"PHP module {module} ({package})"
            for module, package in REQUIRED_PHP_MODULES.items()
            if module not in loaded
        ]
    if not problems:
        return None
    return "missing " + ", ".join(problems) + f"; {INSTALL_HINT}"


def fast_lab_parent(min_free_mb: int = 1024) -> Path | None:
    """/dev/shm when it is a writable tmpfs with room, else None (the system's temp dir).

    The lab writes about 110 MB (tree + database); on tmpfs that costs no disk I/O, which on a
    busy shared disk made the copy and MariaDB's start 3-6 times slower.
    """
    shm = Path("/dev/shm")
    try:
        usage = shutil.disk_usage(shm)
    except OSError:
        return None
    if os.access(shm, os.W_OK) and usage.free > min_free_mb * 1024 * 1024:
        return shm
    return None


def remove_stale_labs(parent: Path, prefix: str, *, max_age_s: float = 6 * 3600) -> None:
    """Remove lab dirs under parent left by killed sessions (old, and their MariaDB is gone).

    On tmpfs a leftover lab holds about 110 MB of memory until reboot.
    """
    now = time.time()
    for lab in parent.glob(f"{prefix}*"):
        try:
            if not lab.is_dir() or now - lab.stat().st_mtime < max_age_s:
                continue
            pid = int((lab / "db/mariadbd.pid").read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and Path(f"/proc/{pid}").exists():
            continue
        shutil.rmtree(lab, ignore_errors=True)


def new_webhook_secret() -> str:
    """A fresh secret in the operator's format: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


class WordPressNetwork:
    """One subdirectory multisite network on http://127.0.0.1:{web_port}/.

    Build it, `start()` it (or use it as a context manager), and `stop()` it; the caller owns
    lab_dir and removes it afterwards. Everything below lab_dir: db/, wp/ (the docroot), logs/
    (wp-debug.log, php-server.log, mariadb.log, mail.jsonl).
    """

    admin_user = "netadmin"
    admin_email = "netadmin@example.test"

    def __init__(
        self,
        lab_dir: Path,
        *,
        web_port: int,
        db_port: int,
        bridge_url: str,
        secret: str,
        plugin_dir: Path,
        install_plugin: bool = True,
        php_workers: int = 4,
        timeout_s: float = 60.0,
        title: str = "Plan Bridge Test Network",
    ) -> None:
        self.lab_dir = Path(lab_dir)
        self.web_port = web_port
        self.db_port = db_port
        self.bridge_url = bridge_url
        self.secret = secret
        self.plugin_dir = Path(plugin_dir)
        self.install_plugin = install_plugin
        self.php_workers = php_workers
        self.timeout_s = timeout_s
        self.title = title
        self.admin_password = secrets.token_urlsafe(18)
        self.app_password = ""
        self.admin_id = 0
        self.docroot = self.lab_dir / "wp"
        self.logs_dir = self.lab_dir / "logs"
        self.db_dir = self.lab_dir / "db"
        self._db_password = secrets.token_urlsafe(18)
        self._mariadb: subprocess.Popen[bytes] | None = None
        self._php: subprocess.Popen[bytes] | None = None
        self._site_count = 0
        self.bootstrap_timings_s: dict[str, float] = {}

    # -- public API -------------------------------------------------------------------------

    @property
    def domain(self) -> str:
        """The network's domain as WordPress stores it, port included."""
        return f"{HOST}:{self.web_port}"

    @property
    def url(self) -> str:
        """The network's (main site's) URL, with a trailing slash."""
        return f"http://{self.domain}/"

    @property
    def plugin_installed(self) -> bool:
        """Whether the plan-bridge plugin was copied into the network."""
        return (self.docroot / "wp-content/plugins" / PLUGIN_FILE).exists()

    @property
    def server_pids(self) -> dict[str, int]:
        """The running servers' pids by name (mariadbd, php); each leads its process group."""
        servers = {"mariadbd": self._mariadb, "php": self._php}
        return {name: proc.pid for name, proc in servers.items() if proc is not None}

    def start(self) -> WordPressNetwork:
        """Bring up MariaDB, the WordPress tree, the network and the web server."""
        problem = missing_parts()
        if problem:
            raise PartsMissing(problem)
        if self._mariadb or self._php:
            raise HarnessError("this network is started already")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> WordPressNetwork:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def create_site(self, slug: str, owner_locale: str = "en_US") -> Site:
        """Create subsite /{slug}/ with a new owner user `owner-{slug}` as its administrator.

        slug: lowercase letters and digits (WordPress's rule for site names).
        """
        if not re.fullmatch(r"[a-z0-9]{1,40}", slug):
            raise ValueError(f"slug must be 1-40 lowercase letters or digits, got {slug!r}")
        owner = f"owner-{slug}"
        password = secrets.token_urlsafe(12)
        email = f"{owner}@example.test"
        reply = self._run_script(
            "create-site.php",
            {
                "url": self.url,
                "slug": slug,
                "title": f"Site {slug}",
                "owner_login": owner,
                "owner_password": password,
                "owner_email": email,
                "owner_locale": owner_locale,
            },
        )
        return Site(
            blog_id=int(reply["blog_id"]),
            slug=slug,
            url=str(reply["url"]),
            owner=owner,
            owner_password=password,
            owner_id=int(reply["owner_id"]),
            owner_email=email,
        )

    def next_slug(self, hint: str = "") -> str:
        """A slug no other site of this network has: `t{n}` plus letters and digits of hint."""
        self._site_count += 1
        cleaned = re.sub(r"[^a-z0-9]", "", hint.lower())
        return f"t{self._site_count}{cleaned}"[:40]

    def eval_php(
        self,
        code: str,
        site_url: str | None = None,
        *,
        args: Mapping[str, Any] | None = None,
        timeout_s: float = 60.0,
    ) -> str:
        """Run PHP code inside WordPress for site_url (default: the main site); return stdout.

        A stand-in for `wp eval`: no `<?php` tag; the code runs in global scope and finds
        `args` (JSON-decoded) in `$args`, which spares quoting values into code. Raises PhpFailed
        with the PHP error output on an exception, a fatal error, or an exit/wp_die().
        """
        result = self._run_php(
            "eval.php",
            {"url": site_url or self.url, "code": code, "args": dict(args or {})},
            timeout_s=timeout_s,
        )
        return result.stdout

    def set_network_option(self, name: str, value: Any) -> None:
        """update_site_option(name, value) on the network; value goes through JSON."""
        self.eval_php(
            "update_site_option( $args['name'], $args['value'] );",
            args={"name": name, "value": value},
        )

    def route_mail_to(self, smtp_port: int | None) -> None:
        """Send WordPress's mail (wp_mail, through PHPMailer) to the SMTP server on
        127.0.0.1:smtp_port; None: back to the mail log (`mails()`)."""
        self.set_network_option("plan_bridge_harness_smtp_port", smtp_port or 0)

    def run_cron(self, site_url: str | None = None, *, timeout_s: float = 60.0) -> None:
        """Run the due WP-Cron events of a site (default: the main site) through wp-cron.php.

        WP_CRON is disabled for page loads, so events only run when a test calls this. The
        request returns after the events ran (php -S does not finish requests early).
        """
        response = requests.get(f"{site_url or self.url}wp-cron.php", timeout=timeout_s)
        with response:
            if response.status_code != 200:
                raise HarnessError(
                    f"wp-cron.php answered {response.status_code}: {response.text[:500]}"
                )

    def reinstall_plugin(self) -> bool:
        """Copy wp-plugin-stub/ into the network again; network-activate it if it is not yet.

        Returns whether the plugin is installed (False while wp-plugin-stub/plan-bridge.php does
        not exist).
        """
        target = self.docroot / "wp-content/plugins" / PLUGIN_SLUG
        if target.exists():
            shutil.rmtree(target)
        if not (self.plugin_dir / "plan-bridge.php").exists():
            return False
        shutil.copytree(
            self.plugin_dir,
            target,
            symlinks=False,
            # Fresh mtimes, so no cache can mistake a re-copied file for the old one.
            copy_function=shutil.copy,
            ignore=shutil.ignore_patterns(".git", "node_modules", "vendor", "tests", "*.swp"),
        )
        self._run_script("activate-plugin.php", {"url": self.url, "plugin": PLUGIN_FILE})
        return True

    def debug_log(self) -> str:
        """The text of WordPress's debug log (wp-debug.log), empty if nothing was logged."""
        return _read_text(self.logs_dir / "wp-debug.log")

    def mails(self) -> list[dict[str, Any]]:
        """The mail WordPress sent, as captured by the harness mu-plugin, oldest first."""
        text = _read_text(self.logs_dir / "mail.jsonl")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop the web server's process group, then MariaDB. Safe to call more than once."""
        php, self._php = self._php, None
        mariadb, self._mariadb = self._mariadb, None
        if php is not None:
            stop_server(php, timeout_s=timeout_s)
        if mariadb is not None:
            # The data is thrown away, so no clean shutdown; mariadbd also ignores a SIGTERM
            # that arrives early in its start-up, which made failed starts hang.
            stop_server(mariadb, timeout_s=timeout_s, first_signal=signal.SIGKILL)

    def stop_web(self, *, timeout_s: float = 10.0) -> None:
        """Stop only the web server (`php -S`): the network is unreachable, its data kept."""
        php, self._php = self._php, None
        if php is not None:
            stop_server(php, timeout_s=timeout_s)

    def start_web(self) -> None:
        """Start the web server again on the same port (after `stop_web`)."""
        if self._php is None:
            self._start_php_server()

    def copy_logs(self, destination: Path) -> None:
        """Copy the lab's logs (debug log, server logs, mail) into destination."""
        destination.mkdir(parents=True, exist_ok=True)
        if self.logs_dir.is_dir():
            for log in self.logs_dir.iterdir():
                if log.is_file():
                    shutil.copy2(log, destination / log.name)

    # -- bring-up ---------------------------------------------------------------------------

    def _start(self) -> None:
        for directory in (self.db_dir, self.logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if self.docroot.exists():
            raise HarnessError(f"{self.docroot} exists already; give the harness an empty lab dir")
        # The two slow file-system steps run side by side.
        with self._step("mariadb and tree copy"):
            copy = subprocess.Popen(
                ["cp", "-rL", str(WORDPRESS_SOURCE), str(self.docroot)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                self._start_mariadb()
                _, copy_errors = copy.communicate(timeout=self.timeout_s)
            finally:
                if copy.poll() is None:
                    copy.kill()
                    copy.communicate()
            if copy.returncode != 0:
                raise HarnessError(f"cp -rL {WORDPRESS_SOURCE} failed: {copy_errors.decode()}")
        with self._step("database and config"):
            self._create_database()
            self._write_tree()
        with self._step("install network"):
            reply = self._run_script(
                "install.php",
                {
                    "url": self.url,
                    "installing": True,
                    "domain": self.domain,
                    "title": self.title,
                    "admin_user": self.admin_user,
                    "admin_password": self.admin_password,
                    "admin_email": self.admin_email,
                },
            )
            self.admin_id = int(reply["admin_id"])
            self._write_multisite_config()
        with self._step("php -S"):
            self._start_php_server()
        with self._step("app password"):
            reply = self._run_script(
                "setup-network.php", {"url": self.url, "admin_user": self.admin_user}
            )
            self.app_password = str(reply["app_password"])
        if self.install_plugin:
            with self._step("plugin"):
                self.reinstall_plugin()
        with self._step("REST check"):
            self._check_rest()

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.bootstrap_timings_s[name] = round(time.monotonic() - started, 3)

    def _start_mariadb(self) -> None:
        datadir = self.db_dir / "data"
        log = self.logs_dir / "mariadb.log"
        common = ["--no-defaults", "--innodb-log-file-size=16M"]
        root = ["--user=root"] if os.geteuid() == 0 else []
        install = subprocess.run(
            [
                "mariadb-install-db",
                *common[:1],
                f"--datadir={datadir}",
                *root,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                *common[1:],
            ],
            capture_output=True,
            text=True,
            timeout=self.timeout_s,
            check=False,
        )
        if install.returncode != 0:
            raise HarnessError(f"mariadb-install-db failed:\n{install.stdout}\n{install.stderr}")
        self._mariadb = start_server(
            [
                "/usr/sbin/mariadbd",
                *common[:1],  # --no-defaults must come first, or /etc/mysql is read
                *root,
                f"--datadir={datadir}",
                f"--socket={self._db_socket}",
                f"--pid-file={self.db_dir / 'mariadbd.pid'}",
                f"--port={self.db_port}",
                f"--bind-address={HOST}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                # A throwaway database: durability buys nothing and costs most of create_site.
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--innodb-flush-method=nosync",
                "--innodb-file-per-table=0",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                *common[1:],
            ],
            log_path=log,
        )
        _wait_until_listening(
            self._mariadb,
            HOST,
            self.db_port,
            timeout_s=self.timeout_s,
            log_path=log,
            what="mariadbd",
        )

    @property
    def _db_socket(self) -> Path:
        return self.db_dir / "mariadbd.sock"

    def _create_database(self) -> None:
        sql = (
            "CREATE DATABASE wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "
            f"CREATE USER 'wp'@'{HOST}' IDENTIFIED BY '{self._db_password}'; "
            f"GRANT ALL ON wordpress.* TO 'wp'@'{HOST}'; "
            f"CREATE USER 'wp'@'localhost' IDENTIFIED BY '{self._db_password}'; "
            "GRANT ALL ON wordpress.* TO 'wp'@'localhost';"
        )
        result = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self._db_socket}", "-uroot", "-e", sql],
            capture_output=True,
            text=True,
            timeout=self.timeout_s,
            check=False,
        )
        if result.returncode != 0:
            raise HarnessError(f"creating the database failed: {result.stderr}")

    def _write_tree(self) -> None:
        for leftover in ("wp-config.php", ".htaccess"):
            (self.docroot / leftover).unlink(missing_ok=True)
        (self.docroot / "wp-content/uploads").mkdir(parents=True, exist_ok=True)
        mu_plugins = self.docroot / "wp-content/mu-plugins"
        mu_plugins.mkdir(parents=True, exist_ok=True)
        for plugin in MU_PLUGINS.glob("*.php"):
            shutil.copy2(plugin, mu_plugins / plugin.name)
        (self.docroot / "wp-config.php").write_text(self._wp_config())

    def _wp_config(self) -> str:
        defines: dict[str, str | bool | int] = {
            "DB_NAME": "wordpress",
            "DB_USER": "wp",
            "DB_PASSWORD": self._db_password,
            "DB_HOST": self._wordpress_db_host(),
            "DB_CHARSET": "utf8mb4",
            "DB_COLLATE": "",
            **{
                f"{kind}_{suffix}": secrets.token_urlsafe(48)
                for kind in ("AUTH", "SECURE_AUTH", "LOGGED_IN", "NONCE")
                for suffix in ("KEY", "SALT")
            },
            # 'local' makes Application Passwords available over plain http.
            "WP_ENVIRONMENT_TYPE": "local",
            "WP_DEBUG": True,
            "WP_DEBUG_LOG": str(self.logs_dir / "wp-debug.log"),
            "WP_DEBUG_DISPLAY": False,
            # Cron runs only when a test calls run_cron(): no loopback spawns from page loads.
            "DISABLE_WP_CRON": True,
            "WP_HTTP_BLOCK_EXTERNAL": True,
            # The bridge under test listens on loopback.
            "WP_ACCESSIBLE_HOSTS": "127.0.0.1,localhost",
            "AUTOMATIC_UPDATER_DISABLED": True,
            "FS_METHOD": "direct",
            "WP_ALLOW_MULTISITE": True,
            "PLAN_BRIDGE_URL": self.bridge_url,
            "PLAN_BRIDGE_SECRET": self.secret,
            "PLAN_BRIDGE_HARNESS_MAIL_LOG": str(self.logs_dir / "mail.jsonl"),
        }
        lines = ["<?php", "// Written by tests/wordpress/harness.py for one test session."]
        lines += [f"define( {_php_literal(k)}, {_php_literal(v)} );" for k, v in defines.items()]
        lines += [
            "$table_prefix = 'wp_';",
            "// Written once the network exists (harness.py, after install.php).",
            "if ( file_exists( __DIR__ . '/wp-config-multisite.php' ) ) {",
            "\trequire __DIR__ . '/wp-config-multisite.php';",
            "}",
            "if ( ! defined( 'ABSPATH' ) ) {",
            "\tdefine( 'ABSPATH', __DIR__ . '/' );",
            "}",
            "require_once ABSPATH . 'wp-settings.php';",
            "",
        ]
        return "\n".join(lines)

    def _wordpress_db_host(self) -> str:
        # The unix socket halves the cost of WordPress's many small queries (create_site runs
        # about 450); TCP when the path is too long for a socket address.
        if len(str(self._db_socket)) < 100:
            return f"localhost:{self._db_socket}"
        return f"{HOST}:{self.db_port}"

    def _write_multisite_config(self) -> None:
        defines = {
            "MULTISITE": True,
            "SUBDOMAIN_INSTALL": False,
            "DOMAIN_CURRENT_SITE": self.domain,
            "PATH_CURRENT_SITE": "/",
            "SITE_ID_CURRENT_SITE": 1,
            "BLOG_ID_CURRENT_SITE": 1,
        }
        lines = ["<?php"] + [
            f"define( {_php_literal(k)}, {_php_literal(v)} );" for k, v in defines.items()
        ]
        (self.docroot / "wp-config-multisite.php").write_text("\n".join(lines) + "\n")

    def _start_php_server(self) -> None:
        log = self.logs_dir / "php-server.log"
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": str(self.php_workers)}
        self._php = start_server(
            [
                "php",
                "-d",
                "upload_max_filesize=64M",
                "-d",
                "post_max_size=64M",
                "-d",
                "memory_limit=256M",
                "-d",
                "display_errors=0",
                "-S",
                f"{HOST}:{self.web_port}",
                "-t",
                str(self.docroot),
                str(ROUTER),
            ],
            log_path=log,
            env=env,
            cwd=self.docroot,
        )
        _wait_until_listening(
            self._php, HOST, self.web_port, timeout_s=self.timeout_s, log_path=log, what="php -S"
        )

    def _check_rest(self) -> None:
        try:
            response = requests.get(f"{self.url}wp-json/", timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise HarnessError(f"the network does not answer at {self.url}: {exc}") from exc
        with response:
            if response.status_code != 200 or "namespaces" not in response.json():
                raise HarnessError(
                    f"GET {self.url}wp-json/ answered {response.status_code}; "
                    f"php-server.log:\n{log_tail(self.logs_dir / 'php-server.log')}"
                )

    # -- PHP ---------------------------------------------------------------------------------

    def _run_php(
        self, script: str, payload: Mapping[str, Any], *, timeout_s: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        timeout = timeout_s if timeout_s is not None else self.timeout_s
        try:
            result = subprocess.run(
                ["php", *self._php_cli_options(), str(PHP_SCRIPTS / script)],
                input=json.dumps({"docroot": str(self.docroot), **payload}),
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.docroot,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PhpFailed(f"{script} took longer than {timeout} s") from exc
        if result.returncode != 0:
            raise PhpFailed(
                f"{script} for {payload.get('url')} failed with status {result.returncode}:\n"
                f"{result.stderr.strip()}\n--- stdout ---\n{result.stdout.strip()}"
            )
        return result

    def _php_cli_options(self) -> list[str]:
        # Opcache's file cache halves the cost of loading WordPress in each CLI run (0.17 s ->
        # 0.08 s); timestamps are checked on every load, so edited files are picked up.
        cache = self.lab_dir / "opcache"
        cache.mkdir(exist_ok=True)
        settings = {
            "display_errors": "stderr",
            "memory_limit": "256M",
            "opcache.enable_cli": "1",
            "opcache.file_cache": str(cache),
            "opcache.file_cache_only": "1",
            "opcache.validate_timestamps": "1",
            "opcache.revalidate_freq": "0",
        }
        return [option for k, v in settings.items() for option in ("-d", f"{k}={v}")]

    def _run_script(self, script: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        result = self._run_php(script, payload)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        try:
            reply = json.loads(lines[-1])
        except (IndexError, ValueError) as exc:
            raise PhpFailed(f"{script} gave no JSON answer; stdout:\n{result.stdout}") from exc
        if not isinstance(reply, dict):
            raise PhpFailed(f"{script} answered {reply!r}, not a JSON object")
        return reply


def _php_literal(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


__all__ = [
    "HarnessError",
    "PartsMissing",
    "PhpFailed",
    "ServerFailed",
    "Site",
    "WordPressNetwork",
    "fast_lab_parent",
    "missing_parts",
    "new_webhook_secret",
    "remove_stale_labs",
]


def _measure(rounds: int) -> None:
    """Print bootstrap, create_site, eval_php and stop times for a few fresh networks."""
    import tempfile

    plugin_dir = HERE.parent.parent / "wp-plugin-stub"
    for round_number in range(1, rounds + 1):
        lab = Path(tempfile.mkdtemp(prefix="plan-bridge-wp-measure-", dir=fast_lab_parent()))
        try:
            network = WordPressNetwork(
                lab,
                web_port=free_port(),
                db_port=free_port(),
                bridge_url="http://127.0.0.1:9",
                secret=new_webhook_secret(),
                plugin_dir=plugin_dir,
            )
            started = time.monotonic()
            network.start()
            bootstrap_s = time.monotonic() - started
            site_s = []
            for _ in range(5):
                started = time.monotonic()
                site = network.create_site(network.next_slug("measure"))
                site_s.append(time.monotonic() - started)
            started = time.monotonic()
            network.eval_php("echo get_current_blog_id();", site.url)
            eval_s = time.monotonic() - started
            started = time.monotonic()
            network.stop()
            stop_s = time.monotonic() - started
            print(
                f"round {round_number}: bootstrap {bootstrap_s:.2f} s, "
                f"create_site {min(site_s):.2f}-{max(site_s):.2f} s, eval_php {eval_s:.2f} s, "
                f"stop {stop_s:.3f} s, plugin "
                f"{'installed' if network.plugin_installed else 'absent'}\n"
                f"  steps: {network.bootstrap_timings_s}"
            )
        finally:
            network.stop()
            shutil.rmtree(lab, ignore_errors=True)


if __name__ == "__main__":
    import sys

    _measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
