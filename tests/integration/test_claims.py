"""`hourglass claims --quick`: every claim's experiment runs for real at reduced size, produces its metric and, where
the quick size allows, its verdict; the report opens in headless Chromium with every image loaded."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from hourglass.cli import main

from .browser import LOCAL, chromium, console_errors, requested_urls


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("claims") / "quick"
    status = main(["claims", "--quick", "--out", str(out), "--seed", "0", "--quiet"])
    return out, status


def test_every_claim_produces_its_metric_and_verdict(quick_run):
    out, status = quick_run
    summary = json.loads((out / "claims.json").read_text())
    assert summary["mode"] == "quick" and summary["seed"] == 0
    claims = summary["claims"]
    assert [c["claim"] for c in claims] == list(range(1, 12))
    for c in claims:
        assert c["error"] is None, (c["claim"], c["error"], c["notes"])
        assert c["statement"] and c["metric"] and c["criterion"], c["claim"]
        assert c["verdict"] in ("PASS", "FAIL", "NOT JUDGED"), c["claim"]
        for check in c["checks"]:
            assert check["value"] is not None and math.isfinite(check["value"]), (c["claim"], check)
            if check["verdict"] != "NOT JUDGED":  # the quick size is big enough for this criterion: it must hold
                assert check["verdict"] == "PASS", (c["claim"], check)
        assert c["figures"], c["claim"]
        for figure in c["figures"]:
            assert (out / figure["file"]).stat().st_size > 1000, figure
    judged = [c["claim"] for c in claims if c["verdict"] != "NOT JUDGED"]
    assert {2, 4, 5, 8, 10} <= set(judged), judged  # the claims whose criteria hold even at the quick size
    assert status == 0
    # The verdicts against the numbers they came from:
    by_number = {c["claim"]: c for c in claims}
    for name in ("s-curve", "swiss-roll"):
        m = by_number[2]["measurements"][name]
        assert m["ae_error"] <= 0.2 * m["pca_error"]
    for noise, m in by_number[4]["measurements"].items():
        if noise != "score_matching":
            assert m["dae"] >= m["plain_ae"] + 1
    zeros = [row["zero_fraction"] for row in by_number[5]["measurements"]["by_lambda"]]
    assert zeros == sorted(zeros)
    generative = by_number[11]["measurements"]
    for code in ("VQ-VAE", "FSQ"):  # the discrete codes' rows: drawn through their autoregressive priors
        assert math.isfinite(generative["samples"][f"{code} + autoregressive"]["frechet_distance"])
        assert generative["discrete"][code]["codebook_used"] >= 2 and generative["discrete"][code]["bits_per_image"] > 0
    assert {"VQ-VAE autoregressive", "FSQ autoregressive"} <= set(generative["prior_seconds"])


def test_rerun_reuses_the_trained_models(quick_run):
    out, _ = quick_run
    from hourglass.store import runfolder

    weights = runfolder.current(out / "models" / "ae-mlp-k2") / "model.safetensors"
    before = (weights.stat().st_mtime_ns, weights.read_bytes())
    first = json.loads((out / "claims.json").read_text())["claims"]
    assert main(["claims", "--quick", "--out", str(out), "--only", "9", "--quiet"]) == 0
    again = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["claim"] for c in again] == list(range(1, 12))  # the others' results are kept
    assert again[8]["measurements"] == first[8]["measurements"]  # same models, same numbers
    assert [c for i, c in enumerate(again) if i != 8] == [c for i, c in enumerate(first) if i != 8]
    assert (weights.stat().st_mtime_ns, weights.read_bytes()) == before  # loaded, not retrained


def test_a_stopped_model_is_retrained_not_trusted(quick_run, tmp_path):
    out, _ = quick_run
    copy = tmp_path / "copy"
    shutil.copytree(out / "models", copy / "models")
    recipe = copy / "models" / "ae-mlp-k2" / "recipe.json"
    record = json.loads(recipe.read_text())
    record["recipe"]["training"]["epochs"] += 1  # as if the run had asked for something else
    recipe.write_text(json.dumps(record))
    assert main(["claims", "--quick", "--out", str(copy), "--only", "9", "--quiet"]) == 0
    assert json.loads(recipe.read_text())["recipe"]["training"]["epochs"] == record["recipe"]["training"]["epochs"] - 1


def test_claims_rejects_unknown_claim_numbers(capsys):
    assert main(["claims", "--quick", "--only", "12"]) == 2
    assert "claim numbers 1 to 11" in capsys.readouterr().err


def test_report_is_self_contained(quick_run):
    out, _ = quick_run
    html = (out / "report.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.count("data:image/") == sum(
        len(c["figures"]) for c in json.loads((out / "claims.json").read_text())["claims"]
    )


def test_report_renders_in_headless_chromium(quick_run, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    out, _ = quick_run
    with chromium(tmp_path / "profile") as driver:
        requested_urls(driver)  # forget the browser's own start-up
        driver.get((out / "report.html").resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
        )
        heading = driver.find_element(By.TAG_NAME, "h1").text
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1200, min(height, 8000))
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        errors = console_errors(driver)
        link = driver.find_element(By.CSS_SELECTOR, "p.link a")  # the 2-d model's latent explorer
        link.click()
        explorer_points = driver.execute_script("return window.explorer.page.points.length")
        network = [u for u in requested_urls(driver) if not u.startswith(LOCAL)]
    assert heading == "Autoencoder claims, tested"
    assert len(images) >= 10
    assert all(complete and width > 0 for _, complete, width in images), [i for i in images if not i[2]]
    assert errors == [] and network == []
    assert explorer_points > 100
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape[0] > 900  # the full page, longer than one screen
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # not blank: text and figures drawn
