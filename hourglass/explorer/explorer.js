// The latent explorer: the decoder g run in the browser on the code under the pointer.
// Data (decoder layers, points, plane) come from the JSON block written by hourglass.explorer.payload.
"use strict";
(function () {
  const page = JSON.parse(document.getElementById("explorer-data").textContent);

  // ---------------------------------------------------------------- the decoder g, layer by layer
  function floats(b64) {  // base64 of little-endian float32 → Float32Array
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }
  function erf(x) {  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), for the exact GELU
    const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
    const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
      * t * Math.exp(-a * a);
    return s * y;
  }
  const ACTIVATIONS = {
    relu: (v) => Math.max(v, 0), sigmoid: (v) => 1 / (1 + Math.exp(-v)), tanh: Math.tanh,
    silu: (v) => v / (1 + Math.exp(-v)), elu: (v) => (v > 0 ? v : Math.expm1(v)),
    gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  };
  const layers = page.layers.map((layer) => ({...layer,
    weight: layer.weight && floats(layer.weight), bias: layer.bias && floats(layer.bias)}));

  function linear(layer, x) {  // y = W x + b, W (out, in) row-major
    const y = new Float32Array(layer.out);
    for (let o = 0; o < layer.out; o++) {
      let s = layer.bias[o];
      const row = o * layer.in;
      for (let i = 0; i < layer.in; i++) s += layer.weight[row + i] * x[i];
      y[o] = s;
    }
    return y;
  }
  function convTranspose(layer, x) {  // PyTorch's ConvTranspose2d; weight (C_in, C_out, K, K)
    const [ci, hi, wi] = layer.in_shape, [co, ho, wo] = layer.out_shape, k = layer.kernel;
    const s = layer.stride, p = layer.padding, y = new Float32Array(co * ho * wo);
    for (let o = 0; o < co; o++) y.fill(layer.bias[o], o * ho * wo, (o + 1) * ho * wo);
    for (let c = 0; c < ci; c++) for (let h = 0; h < hi; h++) for (let w = 0; w < wi; w++) {
      const v = x[(c * hi + h) * wi + w];
      if (v === 0) continue;
      for (let o = 0; o < co; o++) for (let kh = 0; kh < k; kh++) {
        const oh = h * s - p + kh;
        if (oh < 0 || oh >= ho) continue;
        for (let kw = 0; kw < k; kw++) {
          const ow = w * s - p + kw;
          if (ow < 0 || ow >= wo) continue;
          y[(o * ho + oh) * wo + ow] += v * layer.weight[((c * co + o) * k + kh) * k + kw];
        }
      }
    }
    return y;
  }
  function decode(z) {  // x̂ = g(z) in the model's space, as a flat Float32Array
    let x = Float32Array.from(z);
    for (const layer of layers) {
      if (layer.op === "linear") x = linear(layer, x);
      else if (layer.op === "conv_transpose") x = convTranspose(layer, x);
      else x = x.map(ACTIVATIONS[layer.op]);
    }
    return x;
  }
  function toData(x) {  // the model's space → the data's units (the checkpoint's scaling, inverted)
    const {shift, scale} = page.scaling;
    return Array.from(x, (v, i) => v * scale[i] + shift[i]);
  }

  // ---------------------------------------------------------------- the plane of the scatter
  const {origin, directions} = page.plane, k = page.latent_dim;
  function codeAt(u, v) {  // plane coordinates → the code z = origin + u d₁ + v d₂
    return origin.map((o, i) => o + u * directions[0][i] + (directions.length > 1 ? v * directions[1][i] : 0));
  }
  function planeOf(z) {
    const d = (dir) => dir.reduce((s, di, i) => s + di * (z[i] - origin[i]), 0);
    return [d(directions[0]), directions.length > 1 ? d(directions[1]) : 0];
  }
  document.getElementById("plane-note").textContent = page.plane.principal
    ? `k = ${k} > 2: the scatter shows the plane of the codes' first two principal directions through their mean; `
      + "the pointer decodes the point of that plane."
    : (k === 1 ? "k = 1: the code is the horizontal axis." : "k = 2: the scatter is the code itself, z = (z₁, z₂).");

  // ---------------------------------------------------------------- the scatter
  const scatter = document.getElementById("scatter"), sctx = scatter.getContext("2d");
  const W = scatter.width, H = scatter.height, MARGIN = 36;
  const us = page.points.map((p) => p[0]), vs = page.points.map((p) => p[1]);
  function range(values) {  // the 0.5–99.5 % range, padded by a tenth
    const sorted = Float64Array.from(values).sort(), n = sorted.length;
    let lo = sorted[Math.floor(0.005 * (n - 1))], hi = sorted[Math.ceil(0.995 * (n - 1))];
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const pad = 0.1 * (hi - lo);
    return [lo - pad, hi + pad];
  }
  const [u0, u1] = range(us), [v0, v1] = range(vs);
  const toScreen = (u, v) => [MARGIN + (u - u0) / (u1 - u0) * (W - 2 * MARGIN),
                              H - MARGIN - (v - v0) / (v1 - v0) * (H - 2 * MARGIN)];
  const fromScreen = (px, py) => [u0 + (px - MARGIN) / (W - 2 * MARGIN) * (u1 - u0),
                                  v0 + (H - MARGIN - py) / (H - 2 * MARGIN) * (v1 - v0)];
  const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];
  const colour = (i) => (page.labels ? TAB10[((page.labels[i] % 10) + 10) % 10] : "#1f77b4");
  const background = document.createElement("canvas");
  background.width = W; background.height = H;
  (function drawPoints() {
    const b = background.getContext("2d");
    b.fillStyle = "#fff"; b.fillRect(0, 0, W, H);
    b.save(); b.beginPath(); b.rect(MARGIN, MARGIN, W - 2 * MARGIN, H - 2 * MARGIN); b.clip();
    b.globalAlpha = 0.55;
    page.points.forEach((p, i) => {
      const [x, y] = toScreen(p[0], p[1]);
      b.fillStyle = colour(i); b.fillRect(x - 1.5, y - 1.5, 3, 3);
    });
    b.restore(); b.strokeStyle = "#999"; b.strokeRect(MARGIN, MARGIN, W - 2 * MARGIN, H - 2 * MARGIN);
    b.fillStyle = "#555"; b.font = "11px sans-serif";
    for (let i = 0; i <= 4; i++) {  // tick values along both axes
      const u = u0 + i / 4 * (u1 - u0), v = v0 + i / 4 * (v1 - v0);
      b.textAlign = "center"; b.fillText(u.toPrecision(3), toScreen(u, v0)[0], H - MARGIN + 13);
      b.textAlign = "right"; b.fillText(v.toPrecision(3), MARGIN - 3, toScreen(u0, v)[1] + 4);
    }
    b.textAlign = "left"; b.font = "12px sans-serif";
    const axis = page.plane.principal ? ["principal direction 1", "principal direction 2"] : ["z₁", "z₂"];
    b.fillText(axis[0], W / 2 - 30, H - 4);
    b.save(); b.translate(10, H / 2 + 30); b.rotate(-Math.PI / 2); b.fillText(axis[1], 0, 0); b.restore();
  })();
  if (page.labels) {
    const seen = [...new Set(page.labels)].sort((a, b) => a - b);
    document.getElementById("legend").innerHTML = seen.map(
      (l) => `<span><i style="background:${TAB10[((l % 10) + 10) % 10]}"></i>${l}</span>`).join("");
  }
  const state = {u: null, v: null, z: null, picks: []};
  const prior = document.getElementById("prior");
  const drawsChoice = document.getElementById("draws-choice");
  if (page.priors) {
    document.getElementById("draws-toggle").hidden = false;
    for (const [kind, p] of Object.entries(page.priors)) {
      const option = document.createElement("option");
      option.value = kind; option.textContent = `${kind}: ${p.what}`;
      drawsChoice.appendChild(option);
    }
  }
  if (page.variational) document.getElementById("prior-toggle").hidden = false;

  function redraw() {
    sctx.drawImage(background, 0, 0);
    if (page.variational && prior.checked) {  // N(0, I) seen in the plane: centred at the origin's projection
      const [cu, cv] = planeOf(new Array(k).fill(0));
      const [cx, cy] = toScreen(cu, cv);
      sctx.strokeStyle = "#000"; sctx.setLineDash([5, 4]);
      for (const r of [1, 2]) {
        sctx.beginPath();
        sctx.ellipse(cx, cy, r / (u1 - u0) * (W - 2 * MARGIN), r / (v1 - v0) * (H - 2 * MARGIN), 0, 0, 2 * Math.PI);
        sctx.stroke();
      }
      sctx.setLineDash([]);
    }
    sctx.strokeStyle = "#000";
    const chosen = page.priors && page.priors[drawsChoice.value];
    if (chosen) {  // a saved prior's draws, seen in the plane
      sctx.strokeStyle = "#000";
      chosen.points.forEach(([u, v]) => {
        const [x, y] = toScreen(u, v);
        sctx.beginPath(); sctx.moveTo(x - 4, y - 4); sctx.lineTo(x + 4, y + 4); sctx.moveTo(x + 4, y - 4);
        sctx.lineTo(x - 4, y + 4); sctx.stroke();
      });
    }
    state.picks.forEach((z) => {
      const [x, y] = toScreen(...planeOf(z));
      sctx.beginPath(); sctx.arc(x, y, 6, 0, 2 * Math.PI); sctx.stroke();
    });
    if (state.u !== null) {
      const [x, y] = toScreen(state.u, state.v);
      sctx.beginPath(); sctx.moveTo(x - 8, y); sctx.lineTo(x + 8, y); sctx.moveTo(x, y - 8); sctx.lineTo(x, y + 8);
      sctx.stroke();
    }
  }
  prior.addEventListener("change", redraw);
  drawsChoice.addEventListener("change", () => {  // the chosen prior's draws, decoded
    const box = document.getElementById("draws"), chosen = page.priors && page.priors[drawsChoice.value];
    box.innerHTML = "";
    if (chosen) {
      const x = floats(chosen.decoded), d = x.length / chosen.points.length;
      for (let i = 0; i < chosen.points.length; i++) {
        const canvas = document.createElement("canvas");
        (page.image ? drawImage : drawBars)(canvas, toData(x.subarray(i * d, (i + 1) * d)));
        if (!page.image) canvas.style.width = "280px";
        box.appendChild(canvas);
      }
    }
    redraw();
  });

  // ---------------------------------------------------------------- showing a decoded sample
  const decoded = document.getElementById("decoded");
  function drawImage(canvas, x) {  // x in the data's units; the image's value range maps to 0–255
    const [c, h, w] = page.image.shape, [lo, hi] = page.image.range;
    canvas.width = w; canvas.height = h;
    const img = canvas.getContext("2d").createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = x[(c === 3 ? ch : 0) * h * w + i];
        img.data[4 * i + ch] = Math.round(Math.min(Math.max((v - lo) / (hi - lo), 0), 1) * 255);
      }
      img.data[4 * i + 3] = 255;
    }
    canvas.getContext("2d").putImageData(img, 0, 0);
  }
  function drawBars(canvas, x) {  // each column's decoded value in standard deviations from its mean
    const {columns, means, stds} = page.table, n = columns.length, rowH = 18;
    canvas.width = 560; canvas.height = n * rowH + 10; canvas.style.width = "560px";
    const g = canvas.getContext("2d"), mid = 330, span = 100;
    g.fillStyle = "#fff"; g.fillRect(0, 0, canvas.width, canvas.height);
    g.font = "12px sans-serif";
    columns.forEach((name, i) => {
      const d = Math.max(-2.2, Math.min(2.2, (x[i] - means[i]) / stds[i])), y = 5 + i * rowH;
      g.fillStyle = d >= 0 ? "#1f77b4" : "#d62728";
      g.fillRect(Math.min(mid, mid + d * span / 2.2), y + 3, Math.abs(d) * span / 2.2, rowH - 6);
      g.fillStyle = "#222"; g.textAlign = "right";
      g.fillText(name.length > 24 ? name.slice(0, 23) + "…" : name, mid - span - 8, y + 13);
      g.textAlign = "left"; g.fillText(x[i].toPrecision(4), mid + span + 8, y + 13);
    });
    g.strokeStyle = "#555"; g.beginPath(); g.moveTo(mid, 0); g.lineTo(mid, canvas.height); g.stroke();
  }
  const show = (canvas, z) => (page.image ? drawImage : drawBars)(canvas, toData(decode(z)));

  function at(event) {
    const box = scatter.getBoundingClientRect();
    return fromScreen((event.clientX - box.left) * W / box.width, (event.clientY - box.top) * H / box.height);
  }
  scatter.addEventListener("mousemove", (event) => {
    [state.u, state.v] = at(event);
    state.z = codeAt(state.u, state.v);
    document.getElementById("code").textContent = "z = (" + state.z.map((v) => v.toFixed(3)).join(", ") + ")";
    show(decoded, state.z);
    redraw();
  });
  scatter.addEventListener("click", (event) => {  // the nearest point within 10 px, else the plane under the pointer
    const [u, v] = at(event), [px, py] = toScreen(u, v);
    let best = -1, bestD = 100;
    page.points.forEach((p, i) => {
      const [x, y] = toScreen(p[0], p[1]), d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestD) { best = i; bestD = d; }
    });
    const z = best >= 0 ? codeAt(...page.points[best]) : codeAt(u, v);
    state.picks = state.picks.length === 2 ? [z] : [...state.picks, z];
    const path = document.getElementById("path");
    path.innerHTML = "";
    if (state.picks.length === 2) {
      const [a, b] = state.picks;
      for (let s = 0; s < 8; s++) {
        const t = s / 7, canvas = document.createElement("canvas");
        show(canvas, a.map((ai, i) => ai + t * (b[i] - ai)));
        if (!page.image) canvas.style.width = "280px";
        path.appendChild(canvas);
      }
    }
    redraw();
  });
  redraw();
  // For tests and the curious: the mapping between the scatter's pixels and the plane, and the decoder itself.
  window.explorer = {page, state, toScreen, fromScreen, codeAt, planeOf, decode, toData};
})();
