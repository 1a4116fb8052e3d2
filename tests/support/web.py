"""A browser for unit tests: a requests session against the in-process live server, signing in
through the real login form (so CSRF, cookies and sessions behave exactly as in production)."""
from __future__ import annotations

import re

import requests

from tests.support.state import PASSWORD, make_user
from textline.extensions import db


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def open(self, path: str, method: str = "GET", follow_redirects: bool = False, **kwargs):
        kwargs.setdefault("timeout", 15)
        response = self.session.request(method, self.base_url + path, allow_redirects=follow_redirects, **kwargs)
        response.get_data = lambda as_text=True: response.text  # read like Flask's test responses
        return response

    def get(self, path: str, **kwargs):
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs):
        return self.open(path, "POST", **kwargs)

    def csrf_token(self, path: str = "/login") -> str:
        return csrf_token(self, path)


def csrf_token(browser: Browser, path: str = "/login") -> str:
    page = browser.get(path).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}: {page[:200]}"
    return match.group(1)


def sign_in(browser: Browser, email: str, password: str = PASSWORD):
    token = csrf_token(browser)
    return browser.post("/login", data={"email": email, "password": password, "csrf_token": token})


def signed_in_admin(base_url: str, page: str = "/admin/users", **fields) -> Browser:
    """A browser signed in as a new admin, root@example.org, holding the CSRF token of `page`."""
    make_user(db.session, "root@example.org", "admin", **fields)
    browser = Browser(base_url)
    sign_in(browser, "root@example.org")
    browser.token = csrf_token(browser, page)
    return browser
