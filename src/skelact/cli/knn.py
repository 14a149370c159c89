"""`skelact knn --ckpt C --store S`: k-NN top-1 of a checkpoint's encoder features (SSL retrieval protocol).

The gallery is the labelled training split, the queries the test split, both read as the checkpoint's test
clips (for SSL recipes the 95 % centre crop), embedded by the backbone's pooled features and compared by
cosine similarity (`skelact.evaluation.knn`).
"""

from __future__ import annotations

from pathlib import Path

from skelact.cli.main import QuietArgumentParser, positive_int


def run_knn(args: list[str]) -> int:
    parser = QuietArgumentParser(prog="skelact knn", description="k-NN evaluation of a checkpoint's encoder.")
    parser.add_argument("--ckpt", required=True, help="checkpoint (pre-trained or supervised)")
    parser.add_argument("--store", required=True, help="store with the gallery and query splits")
    parser.add_argument("--gallery-split", default="train", help="labelled gallery split (default: train)")
    parser.add_argument("--query-split", default="test", help="query split (default: test)")
    parser.add_argument("--k", type=positive_int, default=1, help="neighbours (default 1, as CMD and HaLP)")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--out", default=None, help="folder for knn.json / knn.md (default: beside --ckpt)")
    options = parser.parse_args(args)

    import torch

    from skelact.data.store import SkeletonStore
    from skelact.evaluation.knn import knn_top1
    from skelact.evaluation.protocol_table import write_protocol_table
    from skelact.inference.predictor import Predictor
    from skelact.methods.probe import load_pretrained

    predictor = Predictor(*load_pretrained(options.ckpt))  # a pre-training's query encoder, or any run's
    store = SkeletonStore(options.store)
    with torch.no_grad():
        gallery, gallery_labels = predictor.embed_store(store, options.gallery_split, options.batch_size)
        queries, query_labels = predictor.embed_store(store, options.query_split, options.batch_size)
    top1 = knn_top1(
        gallery, gallery_labels, queries, query_labels, k=options.k, num_classes=store.num_classes
    )
    out = Path(options.out) if options.out else Path(options.ckpt).resolve().parent.parent / "knn"
    row = {
        "checkpoint": str(options.ckpt),
        "method": predictor.record.method,
        "model": predictor.record.model,
        "k": options.k,
        "gallery": f"{options.gallery_split} ({len(gallery)})",
        "queries": f"{options.query_split} ({len(queries)})",
        "top1": top1,
    }
    json_path, _ = write_protocol_table(
        out,
        "knn",
        [row],
        list(row),
        title="k-NN evaluation",
        facts={"store": str(store.path), "metric": "cosine", "feature_dim": int(gallery.shape[1])},
    )
    print(f"k-NN (k={options.k}, cosine) top-1 {top1:.4f} on {len(queries)} queries; wrote {json_path}")
    return 0
