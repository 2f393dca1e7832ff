"""Large benchmark inputs shaped like the CPQ export of issue 24, written by DuckDB queries (one per chunk).

    python benchmarks/_generate.py OUT.parquet --lines 30000000 --accounts 800000   # L: 45 s of CPU, 2.7 GB

The export's 12 columns in its order, all as the export writes them: ids, product names and
descriptions, contract numbers and both dates (``dd/mm/yyyy``) as text; quantity and net price as
doubles. The accounts, contracts (~2.2 per account: 1.74M at L) and products are
`custseg._workflows._demo_data`'s universe (seeded; valid 18-character Salesforce ids); the lines
are built by DuckDB from that universe with per-line random numbers that are hashes of (seed,
line), so the file is the same whatever the number of threads, and listed in the order of their
subscription numbers (`Name`), which interleaves the contracts (as in the export): written in chunks
of ~2M lines, each the lines of a random share of the contracts in a random order (memory stays
one chunk at any size). Snappy, as most writers: 0.85 GB at L (the issue's export: 1.28 GB, its row groups
mixing all the accounts where a chunk here holds a 1/15 share). Nothing is held in Python but the universe
(O(accounts + contracts)) and one chunk.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from custseg._workflows import _demo_data as demo

BUCKETS = 1 << 16  # the inverse CDF of each behaviour's product choice, tabulated
PACK_WORDS = {"SAC": "sac", "VRAC": "en vrac", "BIG": "big bag", "SILO": "livré en silo", "PALETTE": "sur palette"}


def _descriptions(names: list[str], labels: list[str]) -> list[str]:
    """A product's description as the export has it: free text of 40-80 characters."""
    out = []
    for name, label in zip(names, labels):
        words = name.split()
        pack = next((PACK_WORDS[w] for w in words if w in PACK_WORDS), "conditionnement standard")
        out.append(" ".join(["Ciment", words[0].capitalize(), *words[1:3], "-", pack, "- réf.", label]))
    return out


def _tables(u) -> dict[str, pa.Table]:
    """The universe as Arrow tables DuckDB scans: contracts (with their line ranges), products, buckets."""
    stop = u.contract_stop
    first = np.r_[0, stop[:-1]]
    countries = np.array(list(demo.COUNTRIES))
    contracts = pa.table({
        "first_line": first, "n_lines": stop - first,
        "account": u.account_id.take(pa.array(u.contract_account)),
        "contract": u.contract_id, "contract_number": u.contract_number,
        "behaviour": u.contract_behaviour.astype(np.int32), "year": u.contract_year.astype(np.int32),
        "start_day": u.contract_start, "end_day": u.contract_end,
        "discount": u.contract_discount, "country": pa.array(countries[u.contract_country]),
    })
    names, labels = u.product_name.to_pylist(), u.product_label.to_pylist()
    products = pa.table({"product": np.arange(u.n_products, dtype=np.int32), "name": names,
                         "description": _descriptions(names, labels), "code": u.product_code,
                         "list_price": u.product_price})
    cdf = u.product_cdf.reshape(len(demo.BEHAVIOURS), u.n_products) - np.arange(len(demo.BEHAVIOURS))[:, None]
    centre = (np.arange(BUCKETS) + 0.5) / BUCKETS
    picks = np.clip([np.searchsorted(row, centre, side="right") for row in cdf], 0, u.n_products - 1)
    buckets = pa.table({"behaviour": np.repeat(np.arange(len(cdf), dtype=np.int32), BUCKETS),
                        "bucket": np.tile(np.arange(BUCKETS, dtype=np.int32), len(cdf)),
                        "product": picks.ravel().astype(np.int32)})
    return {"contracts": contracts, "products": products, "buckets": buckets}


def _uniform(stream: int, key: int) -> str:
    """SQL: a uniform [0, 1) number from the hash of (line, stream, key)."""
    return f"((hash(line * 4 + {stream} + {key}) >> 11)::DOUBLE / 9007199254740992.0)"


CHUNK_LINES = 2_000_000  # about the lines built and sorted at once: bounds the memory (~1.5 GB)


def _chunk_query(u, key: int, chunk: int, offset: int) -> str:
    """SQL: the lines of the contracts of `chunk` (a random share of all), in a random order, numbered from `offset`."""
    f = {name: f'"{name}"' for name in demo.SALESFORCE_CPQ_FIELDS}
    cpq = demo.CPQ
    return f"""
    WITH lines AS (
        SELECT c.*, unnest(range(c.first_line, c.first_line + c.n_lines)) AS line FROM contracts c WHERE chunk = {chunk}
    ), drawn AS (  -- the export lists lines by subscription number, which interleaves the contracts
        SELECT *, {offset} - 1 + row_number() OVER (ORDER BY hash(line + {key}), line) AS position,
               {_uniform(0, key)} AS u_product, {_uniform(1, key)} AS u_kind,
               {_uniform(2, key)} AS u_size, {_uniform(3, key)} AS u_shift
        FROM lines
    )
    SELECT
        'SUB-' || lpad(({u.first_name_number} + position)::VARCHAR, {u.name_width}, '0') AS {f[cpq.order]},
        p.name AS {f[cpq.product]},
        CASE WHEN u_kind < {demo.NEGATIVE_RATE} THEN -1.0
             WHEN u_kind < {demo.NEGATIVE_RATE} + [{", ".join(str(b.bulk_rate) for b in demo.BEHAVIOURS)}][d.behaviour + 1]
             THEN 2 + floor({demo.MAX_BULK_QUANTITY - 1} * u_size * u_size * u_size)
             ELSE 1.0 END AS {f[cpq.quantity]},
        p.description AS {f[cpq.product_label]},
        p.code AS {f[demo.PRODUCT_CODE]},
        d.account AS {f[cpq.customer]},
        d.contract AS {f[demo.CONTRACT_ID]},
        d.contract_number AS {f[demo.CONTRACT_NUMBER]},
        strftime(DATE '1970-01-01' + CASE WHEN u_shift < {demo.SHIFTED_START_RATE}
                 THEN start_day + floor(u_shift / {demo.SHIFTED_START_RATE} * (end_day - start_day + 1))::INTEGER
                 ELSE start_day END, '%d/%m/%Y') AS {f[cpq.date]},
        strftime(DATE '1970-01-01' + end_day, '%d/%m/%Y') AS {f[cpq.end_date]},
        round(p.list_price * pow({1 + demo.PRICE_DRIFT}, d.year) * (1 - d.discount), 2) AS {f[cpq.price]},
        d.country AS {f[cpq.country]}
    FROM drawn d
    JOIN buckets b ON b.behaviour = d.behaviour AND b.bucket = floor(d.u_product * {BUCKETS})::INTEGER
    JOIN products p ON p.product = b.product
    ORDER BY position
    """


def write_export(path: Path, n_lines: int, n_accounts: int, seed: int = 42, threads: int | None = None) -> Path:
    """Write the export to `path` (.parquet, Snappy), about CHUNK_LINES lines at a time; it appears only once complete."""
    u = demo._universe(n_lines, n_accounts, demo.DEFAULT_N_PRODUCTS, (2020,), seed)
    tables = _tables(u)
    n_chunks = -(-n_lines // CHUNK_LINES)
    chunk = np.random.default_rng(seed).integers(0, n_chunks, len(u.contract_stop))
    tables["contracts"] = tables["contracts"].append_column("chunk", pa.array(chunk))
    offsets = np.r_[0, np.cumsum(np.bincount(chunk, weights=tables["contracts"]["n_lines"].to_numpy(), minlength=n_chunks))]
    key = int(u.line_key % np.uint64(1 << 40))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # DuckDB 2.0 refuses it in connect(config=...) ("global option")
    if threads:
        con.execute(f"SET threads = {threads}")
    for name, table in tables.items():
        con.register(name, table)
    partial = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for number in range(n_chunks):
            lines = con.sql(_chunk_query(u, key, number, int(offsets[number]))).to_arrow_table()
            if writer is None:
                writer = pq.ParquetWriter(partial, lines.schema, compression="snappy")
            writer.write_table(lines, row_group_size=122_880)
        writer.close()
        writer = None
        os.replace(partial, path)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
        con.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--lines", type=int, required=True)
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    start = time.perf_counter()
    write_export(args.path, args.lines, args.accounts, args.seed, args.threads)
    print(f"wrote {args.path} ({args.path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
