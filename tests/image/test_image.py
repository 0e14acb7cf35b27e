"""Image specs: rendering for Midjourney, DALL·E and Stable Diffusion, the I… lint rules on
real spec files, errors that name file, line and field, and generation through a loopback
server speaking OpenAI's Images API (never the network)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from helpers_http import LoopbackServer, Recorded, Reply
from helpers_paths import REPO
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.errors import UserError
from prompteur.image import load_image_spec, parse_image_spec, render
from prompteur.image._render import dalle_size, sd_size
from prompteur.lint import lint_paths

runner = CliRunner()
EXAMPLE = REPO / "examples" / "craft" / "portrait.image.yaml"
KEY = "sk-test-IMAGESECRET987"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_three_targets_render_the_example_spec() -> None:
    spec = load_image_spec(EXAMPLE)
    mj = render(spec, "midjourney").prompt
    # The weight stays next to its subject: its own part, where the term stands.
    assert "on a wooden pier:: weathered hands::1.3 wool sweater, photograph" in mj
    assert mj.endswith(" --ar 3:2 --no text, watermark")
    sd = render(spec, "sd")
    assert sd.prompt.startswith(
        "an old fisherman mending a net on a wooden pier, (weathered hands:1.3), wool sweater"
    )
    assert sd.negative_prompt == "text, watermark"
    assert sd.params == {"width": 1280, "height": 832}
    d = render(spec, "dalle")
    assert d.prompt.startswith(
        "A photograph of an old fisherman mending a net on a wooden pier,"
        " with weathered hands and wool sweater."
    )
    assert "shot with an 85mm f/1.8 lens, shallow depth of field." in d.prompt
    assert "Put particular emphasis on weathered hands." in d.prompt
    assert d.prompt.endswith("The image contains no text or watermark.")
    assert d.params == {"size": "1792x1024"} and d.notes


def test_model_parameters_render_and_are_checked_per_target() -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + (
        "midjourney: {version: 7, style: raw, stylize: 250, chaos: 10, seed: 42}\n"
        "stable_diffusion: {steps: 30, cfg_scale: 7, sampler: DPM++ 2M Karras, seed: 42}\n"
    )
    spec = parse_image_spec(text, "p.image.yaml")
    mj = render(spec, "midjourney")
    assert mj.prompt.endswith(
        "--ar 3:2 --no text, watermark --v 7 --style raw --s 250 --c 10 --seed 42"
    )
    assert mj.notes == ["stable_diffusion: parameters apply to Stable Diffusion only"]
    sd = render(spec, "sd")
    assert sd.params == {
        "width": 1280,
        "height": 832,
        "steps": 30,
        "cfg_scale": 7,
        "sampler": "DPM++ 2M Karras",
        "seed": 42,
    }
    assert "--v" not in sd.prompt and "steps" not in render(spec, "dalle").params
    niji = parse_image_spec("subject: a cat\nmidjourney: {niji: 6, style: cute, quality: 2}\n")
    assert render(niji, "midjourney").prompt == "a cat --niji 6 --style cute --q 2"
    comfy = parse_image_spec("subject: a cat\nstable_diffusion: {sampler: dpmpp_2m, seed: -1}\n")
    assert render(comfy, "sd").params["sampler"] == "dpmpp_2m"


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ("midjourney: {stylize: 5000}", "midjourney.stylize"),
        ("midjourney: {chaos: -1}", "midjourney.chaos"),
        ("midjourney: {version: 8}", "not a Midjourney version"),
        ("midjourney: {version: 5, style: raw}", "style raw needs version 5.1"),
        ("midjourney: {style: cute}", "niji styles need niji"),
        ("midjourney: {version: 6, niji: 6}", "not both"),
        ("midjourney: {seed: 4294967296}", "midjourney.seed"),
        ("midjourney: {quality: 3}", "quality is one of"),
        ("midjourney: {steps: 30}", "midjourney.steps"),
        ("stable_diffusion: {steps: 0}", "stable_diffusion.steps"),
        ("stable_diffusion: {cfg_scale: 31}", "stable_diffusion.cfg_scale"),
        ("stable_diffusion: {sampler: Turbo Magic}", "unknown sampler 'Turbo Magic'"),
        ("stable_diffusion: {scheduler: fastest}", "unknown scheduler"),
        ("stable_diffusion: {stylize: 100}", "stable_diffusion.stylize"),
    ],
)
def test_a_parameter_a_tool_would_refuse_is_an_error_at_its_line(params: str, said: str) -> None:
    with pytest.raises(UserError) as info:
        parse_image_spec(f"subject: a cat\n{params}\n", "p.image.yaml")
    assert info.value.line == 2 and said in info.value.render()


def test_weights_stay_next_to_their_subject() -> None:
    spec = parse_image_spec(
        "subject: a red fox\ndetails: [snowy forest, bushy tail]\nmedium: watercolour\n"
        "weights: {bushy tail: 1.4, red fox: 1.2, moonlight: 0.7}\n"
    )
    assert render(spec, "midjourney").prompt == (
        "a red fox::1.2 snowy forest:: bushy tail::1.4 watercolour:: moonlight::0.7"
    )
    assert render(spec, "sd").prompt == (
        "a (red fox:1.2), snowy forest, (bushy tail:1.4), watercolour, (moonlight:0.7)"
    )


def test_sizes_follow_the_ratio() -> None:
    assert sd_size((16, 9)) == (1344, 768) and sd_size((1, 1)) == (1024, 1024)
    assert dalle_size((2, 3)) == "1024x1792" and dalle_size((2, 3), "gpt-image-1") == "1024x1536"
    assert dalle_size((9, 8)) == "1024x1024" and dalle_size((5, 4)) == "1792x1024"


def test_target_syntax_in_text_is_neutralised() -> None:
    spec = parse_image_spec("subject: a robot (tin toy) --v 5 cat::2\naspect_ratio: '1:1'\n")
    assert render(spec, "midjourney").prompt == "a robot (tin toy) -v 5 cat:2 --ar 1:1"
    assert render(spec, "sd").prompt == r"a robot \(tin toy\) --v 5 cat::2"


def test_unquoted_ratio_is_recovered_and_flagged(tmp_path: Path) -> None:
    path = tmp_path / "s.image.yaml"
    path.write_text("subject: a red bicycle\naspect_ratio: 16:9\n", encoding="utf-8")
    assert render(load_image_spec(path), "midjourney").prompt == "a red bicycle --ar 16:9"
    [f] = lint_paths([path]).findings
    assert (f.rule, f.line, f.severity.label) == ("I003", 2, "warning")
    assert "969" in f.message and f.suggestion == 'aspect_ratio: "16:9"'


def test_image_lint_findings_on_a_flawed_spec(tmp_path: Path) -> None:
    path = tmp_path / "bad.image.yaml"
    path.write_text(
        "medium: photograph\n"
        "lighting: [golden hour, harsh midday sun]\n"
        "details: [a street with no cars]\n"
        "aspect_ratio: 16x9\n"
        "avoid: [street]\n"
        "weights: {street: 2.5, fog: 1.2}\n",
        encoding="utf-8",
    )
    found = {(f.rule, f.line) for f in lint_paths([path]).findings}
    assert found == {
        ("I001", 1),
        ("I002", 2),
        ("I006", 3),
        ("I003", 4),
        ("I005", 5),
        ("I004", 6),
        ("I008", 6),
    }
    result = runner.invoke(app, ["image", "lint", str(path), "--lang", "fr"])
    assert result.exit_code == 1 and "éclairages contradictoires" in result.stdout


def test_errors_name_file_line_field(project: Path) -> None:
    (project / "a.image.yaml").write_text("subject: x\nlightning: [soft]\n", encoding="utf-8")
    result = runner.invoke(app, ["image", "render", "a.image.yaml"])
    assert result.exit_code == 2
    assert "a.image.yaml:2: lightning: unknown key 'lightning' (did you mean 'lighting'?)" in (
        result.stderr
    )
    (project / "b.image.yaml").write_text("medium: photo\n", encoding="utf-8")
    result = runner.invoke(app, ["image", "render", "b.image.yaml", "-t", "sd"])
    assert result.exit_code == 2 and "b.image.yaml:1: subject: the spec has no subject" in (
        result.stderr
    )
    result = runner.invoke(app, ["image", "render", "b.image.yaml", "-t", "flux"])
    assert result.exit_code == 2 and "--target: unknown target 'flux'" in result.stderr


def test_render_cli_json(project: Path) -> None:
    shutil.copy(EXAMPLE, project / "p.image.yaml")
    result = runner.invoke(app, ["image", "render", "p.image.yaml", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [r["target"] for r in data] == ["midjourney", "dalle", "sd"]


def _images_api(req: Recorded) -> Reply:
    if req.path != "/v1/images/generations":
        return Reply(404, {"error": {"message": "not found"}})
    if req.headers.get("authorization") != f"Bearer {KEY}":
        return Reply(
            401,
            {
                "error": {
                    "message": "Incorrect API key provided: "
                    + req.headers.get("authorization", ""),
                    "type": "invalid_request_error",
                }
            },
        )
    body = req.json
    if body.get("size") not in ("1024x1024", "1536x1024", "1024x1536", "auto"):
        return Reply(400, {"error": {"message": f"Invalid size {body.get('size')}"}})
    if "response_format" in body:  # gpt-image-1 refuses it: it always answers in base64
        return Reply(400, {"error": {"message": "Unknown parameter: 'response_format'."}})
    return Reply(
        200,
        {
            "created": 1,
            "data": [{"b64_json": base64.b64encode(PNG).decode()}],
            "usage": {"total_tokens": 100},
        },
    )


def test_generate_against_a_loopback_images_api(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(EXAMPLE, project / "portrait.image.yaml")
    with LoopbackServer(_images_api) as server:
        toml = project / "prompteur.toml"
        toml.write_text(toml.read_text().replace("https://api.openai.com/v1", server.url + "/v1"))
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        result = runner.invoke(app, ["image", "generate", "portrait.image.yaml"])
        assert result.exit_code == 2 and "set the environment variable OPENAI_API_KEY" in (
            result.stderr
        )
        assert server.requests == []
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        result = runner.invoke(app, ["image", "generate", "portrait.image.yaml", "--json"])
        assert result.exit_code == 0, result.stderr
        [req] = server.requests
        assert req.json["model"] == "gpt-image-1" and req.json["size"] == "1536x1024"
        assert req.json["prompt"].startswith("A photograph of an old fisherman")
        assert (project / "portrait.png").read_bytes() == PNG
        data = json.loads(result.stdout)
        assert data["bytes"] == len(PNG) and data["path"] == "portrait.png"
        result = runner.invoke(app, ["image", "generate", "portrait.image.yaml"])
        assert result.exit_code == 2 and "file exists" in result.stderr

        monkeypatch.setenv("OPENAI_API_KEY", KEY + "-wrong")
        result = runner.invoke(app, ["image", "generate", "portrait.image.yaml", "-o", "other.png"])
    assert result.exit_code == 1
    assert "HTTP 401" in result.stderr and KEY not in result.stderr + result.stdout
    assert not (project / "other.png").exists()
