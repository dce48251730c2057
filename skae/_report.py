"""The comparison report: its table, summary, figures and files (drawn
through matplotlib's ``Figure`` API: no global backend or figure registry)."""

import csv
import math

import numpy as np
from tabulate import tabulate

from ._ordered import smallest_prefix

__all__ = ["rate", "table", "write_report"]

#: Every file a report writes: removed before a new report goes into a folder.
REPORT_FILES = ("report.md", "results.csv", "reconstruction_error.png", "codes_2d.png",
                "reconstructions.png", "vae_samples.png", "loss_curves.png",
                "explained_variance.png")

#: The table's columns: (result key, header, format).
_COLUMNS = (("method", "method", ""), ("latent_dim", "latent", "d"),
            ("sse", "test SSE/sample", ".3f"), ("mse", "test MSE", ".5f"),
            ("knn", "5-NN acc", ".3f"), ("logreg", "LogReg acc", ".3f"),
            ("trust", "trustworthiness", ".3f"), ("fit_s", "fit s", ".2f"),
            ("rows_per_s", "transform rows/s", "rate"), ("elbo", "test ELBO", ".1f"))


def rate(value):
    """A throughput to three significant digits (runs vary by more)."""
    return f"{float(f'{value:.3g}'):,.0f}"


def _cell(value, spec):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return rate(value) if spec == "rate" else format(value, spec)


def table(results):
    """The results as a Markdown table."""
    rows = [[_cell(r[key], spec) for key, _, spec in _COLUMNS] for r in results]
    return tabulate(rows, headers=[header for _, header, _ in _COLUMNS], tablefmt="github",
                    disable_numparse=True, colalign=["left"] + ["right"] * (len(_COLUMNS) - 1))


def _summary(results):
    lines = []
    for dim in sorted({r["latent_dim"] for r in results}):
        rows = [r for r in results if r["latent_dim"] == dim]
        best = min((r for r in rows if not math.isnan(r["sse"])), key=lambda r: r["sse"])
        pca = next((r for r in rows if r["method"] == "PCA"), None)
        text = f"- **{dim}-d**: lowest reconstruction error: {best['method']} ({best['sse']:.3f}"
        text += f", PCA {pca['sse']:.3f})" if pca and best is not pca else ")"
        if not math.isnan(rows[0]["knn"]):
            top = max(rows, key=lambda r: r["knn"])
            text += f"; best 5-NN accuracy: {top['method']} ({top['knn']:.3f}"
            text += f", PCA {pca['knn']:.3f})" if pca and top is not pca else ")"
        lines.append(text + ".")
    return "\n".join(lines)


def _figures(data, results, artefacts, latent_dims, out):
    # The Figure API draws without pyplot's global backend or figure registry.
    from matplotlib.figure import Figure

    figures = {}
    methods = list(dict.fromkeys(r["method"] for r in results))

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for method in methods:
        rows = [r for r in results if r["method"] == method]
        if all(math.isnan(r["sse"]) for r in rows):  # no reconstruction (UMAP)
            continue
        ax.plot([r["latent_dim"] for r in rows], [r["sse"] for r in rows], "o-", label=method)
    ax.set(xlabel="latent size", ylabel="test SSE per sample", yscale="log",
           title=f"{data.name}: reconstruction error")
    ax.set_xticks(sorted({r["latent_dim"] for r in results}))
    ax.legend()
    figures["reconstruction_error.png"] = "Reconstruction error against latent size"
    fig.savefig(out / "reconstruction_error.png", dpi=100, bbox_inches="tight")

    if 2 in latent_dims and data.y_test is not None:
        shown = [m for m in methods if (m, 2) in artefacts]
        fig = Figure(figsize=(4 * len(shown) + 1, 4))
        axes = fig.subplots(1, len(shown), squeeze=False)
        classes, labels = np.unique(data.y_test, return_inverse=True)
        for ax, method in zip(axes[0], shown, strict=True):
            Z = artefacts[method, 2]["codes"]
            points = ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=4,
                                vmin=0, vmax=max(len(classes) - 1, 1))
            ax.set(title=method, xticks=[], yticks=[])
        if len(classes) <= 20:
            handles = points.legend_elements(num=list(range(len(classes))))[0]
            fig.legend(handles, [str(c) for c in classes], title="label", loc="center right",
                       fontsize=8)
            fig.subplots_adjust(right=1 - 0.9 / fig.get_figwidth())
        else:
            fig.colorbar(points, ax=axes[0].tolist(), label="label (index)")
        fig.suptitle(f"{data.name}: 2-d test codes, coloured by label")
        figures["codes_2d.png"] = "2-d codes of the test rows"
        fig.savefig(out / "codes_2d.png", dpi=100, bbox_inches="tight")

    if data.image_shape is not None:
        dim = max(latent_dims)
        rows = [("original", data.X_test)] + [
            (f"{m} ({dim})", artefacts[m, dim]["recon"]) for m in methods
            if (m, dim) in artefacts and artefacts[m, dim]["recon"] is not None]
        fig = Figure(figsize=(10, 1.1 * len(rows)))
        axes = fig.subplots(len(rows), 10, squeeze=False)
        for r, (name, images) in enumerate(rows):
            for c in range(10):
                axes[r, c].imshow(images[c].reshape(data.image_shape), cmap="gray_r",
                                  vmin=0, vmax=1)
                axes[r, c].axis("off")
            axes[r, 0].set_title(name, fontsize=8, loc="left")
        figures["reconstructions.png"] = f"Test images and their reconstructions at {dim}-d"
        fig.savefig(out / "reconstructions.png", dpi=100, bbox_inches="tight")

        vaes = [d for d in latent_dims if ("VAETransformer", d) in artefacts]
        if vaes:
            dim = min(vaes)
            samples = artefacts["VAETransformer", dim]["model"].sample(64, random_state=0)
            fig = Figure(figsize=(6, 6))
            axes = fig.subplots(8, 8)
            for ax, image in zip(axes.flat, samples, strict=True):
                ax.imshow(np.clip(image, 0, 1).reshape(data.image_shape), cmap="gray_r",
                          vmin=0, vmax=1)
                ax.axis("off")
            fig.suptitle(f"VAETransformer({dim}): decoded draws from the prior")
            figures["vae_samples.png"] = f"64 samples of the {dim}-d VAE"
            fig.savefig(out / "vae_samples.png", dpi=100, bbox_inches="tight")

    nets = [m for m in ("AutoencoderTransformer", "VAETransformer") if m in methods]
    if nets:
        fig = Figure(figsize=(6 * len(nets), 4))
        axes = fig.subplots(1, len(nets), squeeze=False)
        for ax, method in zip(axes[0], nets, strict=True):
            for dim in latent_dims:
                if (method, dim) not in artefacts:
                    continue
                model = artefacts[method, dim]["model"]
                line, = ax.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_,
                                label=f"{dim}-d train")
                if model.validation_loss_curve_ is not None:
                    ax.plot(np.arange(1, model.n_iter_ + 1), model.validation_loss_curve_,
                            "--", color=line.get_color(), label=f"{dim}-d validation")
            ylabel = ("reconstruction loss (scaled units)" if method == "AutoencoderTransformer"
                      else "negative ELBO per row (nats, scaled units)")
            ax.set(title=method, xlabel="epoch", ylabel=ylabel)
            ax.legend(fontsize=8)
        figures["loss_curves.png"] = "Training and validation loss curves"
        fig.savefig(out / "loss_curves.png", dpi=100, bbox_inches="tight")
    return figures


def _components(data, curves, out):
    """The report's section on how many dimensions (``curves``: of
    :func:`skae.compare.explained_variance`) and its figure."""
    from matplotlib.figure import Figure

    methods = ("PCA", "ordered AutoencoderTransformer")
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for method in methods:
        ax.plot(curves["k"], curves[method], ".-", label=method)
    ax.set(xlabel="dimensions kept (k)", ylabel="held-out R²", ylim=(0, 1),
           title=f"{data.name}: variance explained by the first k dimensions")
    ax.legend()
    fig.savefig(out / "explained_variance.png", dpi=100, bbox_inches="tight")
    rows = []
    for fraction in (0.5, 0.8, 0.9, 0.95):
        picks = [smallest_prefix(curves[m], fraction) for m in methods]
        rows.append(f"| {fraction:.0%} | " + " | ".join(
            f"> {len(curves['k'])}" if pick is None else str(pick) for pick in picks) + " |")
    seconds = curves["fit_s"]
    return [
        "## How many dimensions",
        "",
        f"One fit each, up to {len(curves['k'])} dimensions: PCA ({seconds['PCA']:.2f} s) "
        f"and `AutoencoderTransformer({len(curves['k'])}, ordered=True)` "
        f"({seconds['ordered AutoencoderTransformer']:.1f} s), each prefix of its code "
        "taken by `truncate(k)`. The smallest number of dimensions whose test R² "
        "reaches each share of the variance:",
        "",
        "| share of the variance | PCA | ordered autoencoder |",
        "|---|---|---|",
        *rows,
        "",
        "![Held-out R² of the first k dimensions](explained_variance.png)",
        "",
    ]


def write_report(data, results, artefacts, latent_dims, out, seconds, command, trust_rows,
                 components=None):
    """Write ``report.md``, ``results.csv`` and the figures into ``out``
    (``components``: the curves of :func:`skae.compare.explained_variance`)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:  # a new report replaces the whole previous one
        (out / name).unlink(missing_ok=True)
    figures = _figures(data, results, artefacts, latent_dims, out)
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    n_train, n_features = data.X_train.shape
    n_test = len(data.X_test)
    text = [
        f"# PCA vs autoencoders on {data.name}",
        "",
        f"`{command}` ({seconds:.0f} s in all).",
        "",
        f"Data: {n_train} training and {n_test} test rows, {n_features} features; "
        + "; ".join(data.notes) + ".",
        "All metrics on the test rows: SSE is the squared error summed over features, "
        "averaged over rows; MSE is its mean per feature. The 5-NN and logistic-regression "
        "classifiers are trained on the training rows' codes. Trustworthiness (5 neighbours) "
        + (f"is on all {n_test} test rows" if n_test <= trust_rows
           else f"is on the first {trust_rows} test rows")
        + ". The ELBO is the VAE's, in nats per row. Fit seconds leave out torch's "
        "one-time start-up (a small fit runs first); transform rows/s are of one call on "
        "the test rows.",
        "",
        table(results),
        "",
        _summary(results),
        "",
    ]
    for name, caption in figures.items():
        text += [f"![{caption}]({name})", ""]
    if components is not None:
        text += _components(data, components, out)
    (out / "report.md").write_text("\n".join(text))
    return out / "report.md"
