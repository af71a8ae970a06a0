"""`hourglass explore`: the page's own decoder, run by Chromium under a real pointer, draws what hourglass decodes."""

import numpy as np
import pytest
import torch

from hourglass.errors import HourglassError
from hourglass.explorer import explore_file
from hourglass.store import checkpoint as ckpt

from .browser import LOCAL, chromium, console_errors, requested_urls
from .test_cli import hourglass

READ_CANVAS = """const c = document.getElementById('decoded');
return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);"""


def decoded_in_python(checkpoint, z):
    with torch.no_grad():
        x_hat = checkpoint.model.decode(torch.tensor([z], dtype=torch.float32)).numpy()
    return checkpoint.scaling.inverse_transform(x_hat)[0]


def point_at(driver, canvas, u, v):
    """Move the real pointer over the scatter to plane position (u, v); return the code the page decoded."""
    from selenium.webdriver.common.action_chains import ActionChains

    px, py = driver.execute_script("return window.explorer.toScreen(arguments[0], arguments[1])", u, v)
    ActionChains(driver).move_to_element_with_offset(
        canvas, round(px - canvas.size["width"] / 2), round(py - canvas.size["height"] / 2)
    ).perform()
    return driver.execute_script("return window.explorer.state.z")


@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_the_digit_under_the_pointer_is_the_decoded_code(trained, tmp_path, name):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    checkpoint = ckpt.load(trained[name])
    page = tmp_path / "explorer.html"
    hourglass("explore", trained[name], "-o", page)
    with chromium(tmp_path / "profile") as driver:
        requested_urls(driver)  # forget the browser's own start-up
        driver.get(page.as_uri())
        scatter = driver.find_element(By.ID, "scatter")
        points = np.asarray(driver.execute_script("return window.explorer.page.points"))
        shown = []
        for u, v in np.percentile(points, [25, 50, 80], axis=0):  # three positions among the codes
            z = point_at(driver, scatter, u, v)
            pixels = np.asarray(driver.execute_script(READ_CANVAS), np.float64).reshape(8, 8, 4)[..., 0] / 255
            want = np.clip(decoded_in_python(checkpoint, z), 0, 1).reshape(8, 8)  # digits: values in [0, 1]
            assert np.abs(pixels - want).max() <= 1.5 / 255
            shown.append(pixels)
        assert np.abs(shown[0] - shown[2]).max() > 0.1  # the picture follows the pointer
        assert driver.find_element(By.ID, "code").text.startswith("z = (")
        for u, v in (points[0], points[-1]):  # two clicks: the path between them, decoded in 8 steps
            px, py = driver.execute_script("return window.explorer.toScreen(arguments[0], arguments[1])", u, v)
            dx, dy = round(px - scatter.size["width"] / 2), round(py - scatter.size["height"] / 2)
            ActionChains(driver).move_to_element_with_offset(scatter, dx, dy).click().perform()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#path canvas")) == 8
        note = driver.find_element(By.ID, "plane-note").text
        urls = requested_urls(driver)
        errors = console_errors(driver)
    assert ("principal directions" in note) == (checkpoint.model.latent_dim > 2)
    assert page.as_uri() in urls  # the log saw the page load ...
    assert [u for u in urls if not u.startswith(LOCAL)] == []  # ... and nothing asked of any network
    assert errors == []


def test_vae_prior_and_table_bars(trained, tmp_path):
    from selenium.webdriver.common.by import By

    explore_file(trained["vae"], tmp_path / "vae.html")
    explore_file(trained["table"], tmp_path / "table.html")
    table = ckpt.load(trained["table"])
    with chromium(tmp_path / "profile") as driver:
        driver.get((tmp_path / "vae.html").as_uri())
        toggle = driver.find_element(By.ID, "prior")
        assert toggle.is_displayed()
        before = driver.get_screenshot_as_png()
        toggle.click()
        assert driver.get_screenshot_as_png() != before  # the prior's circles drawn
        driver.get((tmp_path / "table.html").as_uri())
        assert not driver.find_element(By.ID, "prior").is_displayed()
        z = [0.3, -0.2]
        row = driver.execute_script("return window.explorer.toData(window.explorer.decode(arguments[0]))", z)
        columns = driver.execute_script("return window.explorer.page.table.columns")
        errors = console_errors(driver)
    np.testing.assert_allclose(row, decoded_in_python(table, z), rtol=1e-4, atol=1e-4)
    assert columns == ["spend", "visits", "basket", "region=north", "region=south"] and errors == []


def test_explore_refuses_what_it_cannot_do(trained, tmp_path):
    with pytest.raises(HourglassError, match="output must end in .html"):
        explore_file(trained["mlp"], tmp_path / "e.png")
    with pytest.raises(HourglassError, match="max_points must be a whole number"):
        explore_file(trained["mlp"], tmp_path / "e.html", max_points=0)
    page = explore_file(trained["mlp"], tmp_path / "e.html", max_points=50)
    assert page["points"] == 50 and page["labels"]
