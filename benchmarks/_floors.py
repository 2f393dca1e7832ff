"""The floor of each stage: the same work as one hand-written DuckDB query on an export of `_generate.py`.

    python benchmarks/_floors.py DATA.parquet [--threads 2]   # prints one JSON line: stage -> seconds, CPU seconds

What custseg does more than these queries (and why it costs): it types and checks every column
it uses (ids, spaces, number formats, implausible years), counts every cleaning rule apart,
checks the Salesforce ids' checksums, and names a bad value's row; the floors assume a clean
file whose types are known. Each stage's query reads the file itself (its own scan), as
custseg's stage reads what the one before left.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb

# the export's columns (benchmarks/_generate.py), quoted for SQL
LINES = """(SELECT "SBQQ__Account__c" AS customer, "Name" AS order_id, "SBQQ__ProductName__c" AS product,
                   "Description__c" AS label, "SBQQ__Quantity__c" AS quantity, "SBQQ__NetPrice__c" AS price,
                   strptime("SBQQ__StartDate__c", '%d/%m/%Y') AS date
            FROM read_parquet('{path}'))"""

FLOORS = {
    # the rules counted, the customers before and after, the date range, the order ids' uniqueness
    "clean": """
        SELECT count(*) AS rows_in, count(DISTINCT customer) AS customers_in,
               count(*) FILTER (WHERE customer IS NULL) AS missing_customer,
               count(*) FILTER (WHERE quantity = 0 OR quantity IS NULL) AS quantity_zero,
               count(*) FILTER (WHERE price IS NULL OR isnan(price)) AS missing_price,
               count(*) FILTER (WHERE price < 0) AS negative_price, count(*) FILTER (WHERE price = 0) AS zero_price,
               count(*) FILTER (WHERE date IS NULL) AS missing_date, min(date), max(date),
               count(DISTINCT order_id) = count(order_id) AS orders_unique
        FROM {lines}""",
    # the three features of the default run (TotalSales, OrderCount, RecencyDays) and each customer's top product
    "features": """
        WITH per_product AS (
            SELECT customer, product, sum(quantity * price) AS amount, count(*) FILTER (WHERE quantity >= 0) AS n,
                   max(date) AS last
            FROM {lines} WHERE price > 0 AND quantity <> 0 GROUP BY ALL
        ), customers AS (
            SELECT customer, sum(amount) AS total, sum(n) AS orders, max(last) AS last,
                   arg_max(product, round(amount, 4)) AS top
            FROM per_product GROUP BY customer
        )
        SELECT count(*), sum(total), sum(orders), max(last), count(DISTINCT top) FROM customers""",
    # each segment's top products and their labels (two segments: the customers' hashes' parity)
    "profile": """
        WITH per_product AS (
            SELECT hash(customer) % 2 AS segment, product, sum(quantity * price) AS amount, max(label) AS label
            FROM {lines} WHERE price > 0 AND quantity <> 0 GROUP BY ALL
        )
        SELECT segment, product, amount, label FROM per_product QUALIFY row_number() OVER (PARTITION BY segment
               ORDER BY amount DESC) <= 10""",
    # the customer table written (800k rows at L: id and three numbers) to Parquet and CSV
    "write": """
        COPY (SELECT customer, sum(quantity * price) AS total, count(*) AS orders, max(date) AS last
              FROM {lines} GROUP BY customer) TO '{out}' (FORMAT parquet)""",
}


def floors(path: str, threads: int | None = None, out: str = "/tmp/custseg-floor.parquet") -> dict:
    """Each stage's floor query, run once on a fresh connection: seconds and CPU seconds (all threads)."""
    result = {}
    for stage, query in FLOORS.items():
        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads = {threads}")
        sql = query.format(lines=LINES.format(path=path), out=out)
        start, cpu = time.perf_counter(), time.process_time()
        con.sql(sql).fetchall() if not sql.lstrip().startswith("COPY") else con.execute(sql)
        result[stage] = {"seconds": round(time.perf_counter() - start, 3), "cpu": round(time.process_time() - cpu, 3)}
        con.close()
    return result


if __name__ == "__main__":
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else None
    print("FLOORS-JSON " + json.dumps(floors(sys.argv[1], threads)), flush=True)
