"""`GET /`: a small page that says what this server is and where to go from here.

Someone who runs `make run` and opens the address in a browser gets this page instead of the JSON
API's 404: links to the operator's console, the health check, the OpenAPI document and the docs.
The page is static (no database, no session), so it answers even when the database does not.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response

__all__ = ["PAGE", "register"]

blueprint = Blueprint("home", __name__)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plan Bridge</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:44rem;padding:1rem 1.25rem;
color:#1f2328;background:#fff;line-height:1.5}
a{color:#0550ae}
code{background:#f6f8fa;padding:0 .25em;border-radius:3px}
li{margin:.4rem 0}
</style>
</head>
<body>
<main>
<h1>Plan Bridge</h1>
<p>This server lets the site owners of a WordPress multisite network change their plan from their
site's <strong>Account</strong> page, pay the prorated amount and get the new limits at once.</p>
<h2>Where to go</h2>
<ul>
<li><a href="/admin/">Operator's console</a>: the catalog, its versions and the plan groups
(sign in from the network admin's <em>Plan Bridge</em> page, or with
<code>bridge admin-link</code>).</li>
<li><a href="/healthz">Health check</a> (<code>/healthz</code>): whether the database answers.</li>
<li><a href="/openapi.json">The JSON API's description</a> (OpenAPI 3.1,
<code>/openapi.json</code>); the API itself is under <code>/api/v1</code>.</li>
</ul>
<h2>Documentation</h2>
<p>See <code>README.md</code> in the project's source tree: how to configure the bridge, the API,
the billing rules and how to operate it. To try the whole product with a real WordPress network,
run <code>make demo</code>.</p>
</main>
</body>
</html>
"""


@blueprint.get("/")
def home() -> Response:
    return Response(PAGE, mimetype="text/html")


def register(app: Flask) -> None:
    """Mount `/`."""
    app.register_blueprint(blueprint)
