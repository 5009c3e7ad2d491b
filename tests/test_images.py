"""Your own picture of a digit: axon.datasets.images prepares it as MNIST and the bundled digits were
prepared, and `axon predict MODEL picture.png|folder` classifies it. Every picture is drawn here with
Pillow: the bundled test digits enlarged, and digits drawn with strokes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import axon as ax
from axon.cli.main import main
from axon.datasets import images

(X_TRAIN, Y_TRAIN), (X_TEST, Y_TEST) = ax.datasets.load_digits()


def bundled_as_picture(k: int, *, scale: int = 24, dark_on_light: bool = True) -> Image.Image:
    """Test digit k enlarged (bicubic) onto a larger canvas, off centre, as a scanned drawing would be."""
    ink = Image.fromarray((X_TEST[k].reshape(8, 8) * 255).astype(np.uint8)).resize((8 * scale, 8 * scale),
                                                                                  Image.Resampling.BICUBIC)
    canvas = Image.new("L", (12 * scale, 11 * scale), 0)
    canvas.paste(ink, (3 * scale, scale))
    return Image.eval(canvas, lambda v: 255 - v) if dark_on_light else canvas


def drawn(d: int, *, size: int = 200, width: int = 16, fg: int | tuple = 0, bg: int | tuple = 255,
          mode: str = "L") -> Image.Image:
    """The digit d drawn with a pen of ``width`` pixels on a size×size canvas."""
    im = Image.new(mode, (size, size), bg)
    draw = ImageDraw.Draw(im)
    s = size / 200

    def pts(*xy):
        return [(x * s, y * s) for x, y in xy]

    w = max(1, round(width * s))
    if d == 0:
        draw.ellipse(pts((60, 30), (140, 170)), outline=fg, width=w)
    elif d == 2:
        draw.arc(pts((60, 30), (140, 100)), 180, 40, fill=fg, width=w)
        draw.line(pts((132, 85), (60, 170), (145, 170)), fill=fg, width=w, joint="curve")
    elif d == 4:
        draw.line(pts((115, 30), (55, 120), (150, 120)), fill=fg, width=w, joint="curve")
        draw.line(pts((120, 70), (120, 170)), fill=fg, width=w)
    elif d == 7:
        draw.line(pts((55, 30), (145, 30), (90, 170)), fill=fg, width=w, joint="curve")
    elif d == 8:
        draw.ellipse(pts((70, 30), (130, 95)), outline=fg, width=w)
        draw.ellipse(pts((62, 95), (138, 170)), outline=fg, width=w)
    else:
        raise ValueError(d)
    return im


DRAWN = (0, 2, 4, 7, 8)


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """An MLP on the bundled 8×8 digits, saved without run.json (the picture style comes from its
    input size)."""
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 128, init="he"), ax.ReLU(), ax.Dense(128, 10))
    model.compile(loss="cross_entropy", optimizer=ax.optim.Adam(lr=3e-3), metrics=["accuracy"])
    model.fit(X_TRAIN, Y_TRAIN, epochs=40, batch_size=64, verbose=0, seed=0)
    path = tmp_path_factory.mktemp("digits") / "model.axon"
    ax.save(model, path)
    return path


@pytest.fixture(scope="module")
def mnist_like_model(tmp_path_factory):
    """A 28×28 model taking NCHW images (1, 28, 28), trained on the bundled digits enlarged and
    prepared as MNIST was: the flat layout is not the only one predict must feed."""
    folder = tmp_path_factory.mktemp("mnist28")
    X = np.stack([images.mnist_like(x.reshape(8, 8)) for x in X_TRAIN])[:, None]
    ax.set_seed(0)
    model = ax.Sequential(ax.Flatten(), ax.Dense(784, 128, init="he"), ax.ReLU(), ax.Dense(128, 10),
                          input_shape=(1, 28, 28))
    model.compile(loss="cross_entropy", optimizer=ax.optim.Adam(lr=1e-3), metrics=["accuracy"])
    model.fit(X, Y_TRAIN, epochs=30, batch_size=64, verbose=0, seed=0)
    ax.save(model, folder / "model.axon")
    return folder / "model.axon"


# -- the preparation --------------------------------------------------------------------------------
def test_enlarged_bundled_digits_come_back_as_they_were(tmp_path):
    diffs = []
    for k in range(40):
        bundled_as_picture(k).save(tmp_path / "d.png")
        got = images.load_digit_image(tmp_path / "d.png", "digits")
        assert got.shape == (8, 8) and got.dtype == np.float32
        np.testing.assert_array_equal(got * 16, np.rint(got * 16))   # counts 0..16, divided by 16
        diffs.append(np.abs(got - X_TEST[k].reshape(8, 8)).mean())
    assert np.mean(diffs) < 0.08, np.mean(diffs)   # the faintest blocks (<= 3/16) fall under the ink threshold


@settings(max_examples=40, deadline=None)
@given(h=st.integers(5, 150), w=st.integers(5, 150), top=st.integers(0, 40), left=st.integers(0, 40),
       ring=st.booleans())
def test_mnist_like_fits_a_20_pixel_box_and_centres_the_mass(h, w, top, left, ring):
    ink = np.zeros((top + h + 7, left + w + 3))
    ink[top:top + h, left:left + w] = 1.0
    if ring and min(h, w) > 4:  # a hollow shape: its mass is not where its corner is
        ink[top + 2:top + h - 2, left + 2:left + w - 2] = 0.0
        ink[top:top + h // 3, left:left + w] = 1.0
    out = images.mnist_like(ink)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20         # the longer side fills the box
    f = 20 / max(h, w)                                                     # the aspect ratio is kept
    assert abs(rows[-1] - rows[0] + 1 - h * f) <= 1 and abs(cols[-1] - cols[0] + 1 - w * f) <= 1
    centre = [float((out.sum(axis=a) * (np.arange(28) + 0.5)).sum() / out.sum()) for a in (1, 0)]
    for c, first, last in zip(centre, (rows[0], cols[0]), (rows[-1], cols[-1])):
        if first > 0 and last < 27:  # not pushed against the border
            assert abs(c - 14.0) <= 0.5 + 1e-4   # float32 sums


def test_fashion_style_fills_28_pixels_and_centres_the_box():
    ink = np.zeros((100, 60))
    ink[10:90, 5:25] = 1.0  # 80 high, 20 wide, off centre
    out = images.mnist_like(ink, **{k: v for k, v in images.STYLES["fashion-mnist"].items()})
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert (rows[0], rows[-1]) == (0, 27) and cols[-1] - cols[0] + 1 == 7     # 28 high, aspect kept
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 0.5                        # the box centred
    with pytest.raises(ValueError, match="centre"):
        images.mnist_like(ink, centre="middle")


def test_light_on_dark_and_dark_on_light_give_the_same_input(tmp_path):
    bundled_as_picture(3).save(tmp_path / "a.png")
    bundled_as_picture(3, dark_on_light=False).save(tmp_path / "b.png")
    for style in ("digits", "mnist"):
        np.testing.assert_allclose(images.load_digit_image(tmp_path / "a.png", style),
                                   images.load_digit_image(tmp_path / "b.png", style), atol=1 / 16 + 1e-6)


def test_colour_jpeg_and_transparent_png_read_like_the_grey_png(tmp_path):
    drawn(4).save(tmp_path / "grey.png")
    drawn(4, mode="RGB", fg=(20, 20, 120), bg=(250, 245, 230)).save(tmp_path / "blue-ink.jpg", quality=85)
    drawn(4, mode="RGBA", fg=(0, 0, 0, 255), bg=(0, 0, 0, 0)).save(tmp_path / "transparent.png")
    drawn(4, mode="RGBA", fg=(255, 255, 255, 255), bg=(255, 255, 255, 0)).save(tmp_path / "white-ink.png")
    ref = images.load_digit_image(tmp_path / "grey.png", "mnist")
    for name in ("blue-ink.jpg", "transparent.png", "white-ink.png"):
        got = images.load_digit_image(tmp_path / name, "mnist")
        assert np.abs(got - ref).mean() < 0.03, name


def test_style_follows_the_data_set_or_the_input_size():
    assert images.style_for(64) == "digits" and images.style_for(784) == "mnist"
    assert images.style_for(784, "fashion-mnist") == "fashion-mnist"
    with pytest.raises(ValueError, match="not on images"):
        images.style_for(64, "csv:table.csv")
    with pytest.raises(ValueError, match="8×8"):
        images.style_for(100)
    with pytest.raises(ValueError, match="784"):
        images.style_for(64, "mnist")


# -- axon predict MODEL picture ---------------------------------------------------------------------
def test_predict_one_picture_prints_the_class_and_top_probabilities(digits_model, tmp_path, capsys):
    drawn(7).save(tmp_path / "seven.png")
    assert main(["predict", str(digits_model), str(tmp_path / "seven.png"), "--top", "3"]) == 0
    line = capsys.readouterr().out.strip()
    name, rest = line.split(": ", 1)
    assert name == str(tmp_path / "seven.png") and rest.split()[0] == "7"
    probs = [float(v) for v in rest[rest.index("(") + 1:-1].replace(",", "").split()[1::2]]
    assert len(probs) == 3 and probs == sorted(probs, reverse=True) and probs[0] > 0.5


def test_predict_a_folder_of_pictures(digits_model, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    truth = {}
    for k in range(20):  # enlarged test digits, half of them white on black, some as JPEG
        name = f"test{k:02d}." + ("jpg" if k % 3 == 0 else "png")
        bundled_as_picture(k, dark_on_light=k % 2 == 0).save(folder / name)
        truth[name] = int(Y_TEST[k])
    for d in DRAWN:
        drawn(d).save(folder / f"drawn{d}.png")
        truth[f"drawn{d}.png"] = d
    (folder / "notes.txt").write_text("not a picture")
    out = tmp_path / "pred.csv"
    assert main(["predict", str(digits_model), str(folder), "--out", str(out), "--proba"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "notes.txt" in err
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0] == ["file", "label"] + [f"p_{k}" for k in range(10)]
    got = {r[0].rsplit("/", 1)[-1]: int(r[1]) for r in rows[1:]}
    assert set(got) == set(truth)
    for r in rows[1:]:
        assert abs(sum(float(p) for p in r[2:]) - 1) < 1e-4
    enlarged = [got[n] == truth[n] for n in truth if n.startswith("test")]
    assert np.mean(enlarged) >= 0.85, got
    assert sum(got[f"drawn{d}.png"] == d for d in DRAWN) >= 4, got


def test_predict_28x28_nchw_model_on_drawn_digits(mnist_like_model, tmp_path, capsys):
    for d in DRAWN:
        drawn(d, size=300, width=22).save(tmp_path / f"{d}.png")
    assert main(["predict", str(mnist_like_model), str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(DRAWN)
    got = [int(line.split(": ")[1].split()[0]) for line in lines]
    assert sum(g == d for g, d in zip(got, DRAWN)) >= 4, got


@pytest.mark.parametrize("case", ["not an image", "blank", "empty folder", "no such file", "regression model",
                                  "csv model"])
def test_picture_errors_are_one_line_exit_2(case, digits_model, tmp_path, capsys):
    model = str(digits_model)
    if case == "not an image":
        target = tmp_path / "fake.png"
        target.write_text("this is text")
        needle = "not a PNG or JPEG"
    elif case == "blank":
        target = tmp_path / "blank.png"
        Image.new("L", (64, 64), 240).save(target)
        needle = "blank"
    elif case == "empty folder":
        target = tmp_path / "folder"
        target.mkdir()
        (target / "readme.txt").write_text("x")
        needle = "no PNG or JPEG"
    elif case == "no such file":
        target = tmp_path / "missing.png"
        needle = "no such file"
    else:
        target = tmp_path / "seven.png"
        drawn(7).save(target)
        m = ax.Sequential(ax.Dense(64, 1))
        if case == "regression model":
            m.compile(loss="mse")
            needle = "classifier"
        else:
            m = ax.Sequential(ax.Dense(64, 3))
            m.compile(loss="cross_entropy")
            import json
            (tmp_path / "run.json").write_text(json.dumps({"dataset": "csv:table.csv", "task": "classification"}))
            needle = "not on images"
        ax.save(m, tmp_path / "model.axon")
        model = str(tmp_path / "model.axon")
    capsys.readouterr()
    assert main(["predict", model, str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("axon: error: "), err
    assert needle in err[0], err[0]
    if case in ("not an image", "blank"):
        assert str(target) in err[0]  # names the picture
