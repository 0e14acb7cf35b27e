"""Hostile tests, written as an attacker would: black-box, through real HTTP requests to a
real `prompteur serve` on loopback and through the CLI as a subprocess. Every attack ever
found stays here (issue 15 and after). A new route or page needs its row in
test_route_scopes.TABLE; shared tools are in _support.py."""
