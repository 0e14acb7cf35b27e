"""A promptfoo config written in JavaScript runs at import, in the embedded engine: bounded in
time and memory, without modules, files, network or the environment's secrets; a hostile one
is refused with a UserError naming the file, and nothing is written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from prompteur.code import javascript_available
from prompteur.errors import UserError
from prompteur.importers import convert_promptfoo

pytestmark = pytest.mark.skipif(not javascript_available(), reason="pip install 'prompteur[js]'")

HOSTILE = {
    "loop": ("while (true) {}\nmodule.exports = {};", "terminated by timeout"),
    "memory": ("var a = []; while (true) { a.push(new Array(1e6).fill(1)); }", "could not run"),
    "file": (
        "module.exports = {prompts: [require('fs').readFileSync('/etc/passwd', 'utf8')]};",
        "require(fs) is not available",
    ),
    "network": ("fetch('http://127.0.0.1:9/'); module.exports = {};", "fetch is not defined"),
}


@pytest.mark.timeout(60)  # the endless loop runs into the engine's 10 s limit: that is the test
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_javascript_config_is_refused_and_bounded(name: str, tmp_path: Path) -> None:
    code, said = HOSTILE[name]
    config = tmp_path / "promptfooconfig.js"
    config.write_text(code)
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        convert_promptfoo(config, out=tmp_path / "out").write()
    assert time.monotonic() - start < 30
    assert str(caught.value.file) == str(config), caught.value.file
    assert said in caught.value.message, caught.value.message
    assert not (tmp_path / "out").exists()


def test_a_javascript_config_cannot_read_the_environments_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-never-copied")
    config = tmp_path / "promptfooconfig.js"
    config.write_text(
        "module.exports = {prompts: ['key=' + String(process.env.OPENAI_API_KEY) + ' {{q}}'],"
        " tests: [{vars: {q: 'x'}}]};"
    )
    conv = convert_promptfoo(config, out=tmp_path)
    conv.write()
    written = "".join(p.read_text() for p in conv.files)
    assert "sk-secret" not in written and "key=undefined" in written
