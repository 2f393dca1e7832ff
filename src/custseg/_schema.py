"""Names of the columns and files custseg writes: the output schema, defined once."""

CUSTOMER_ID = "customer_id"
SEGMENT_ID = "segment_id"
SEGMENT_NAME = "segment_name"
DISTANCE = "distance"
SILHOUETTE = "silhouette"
Z_PREFIX = "z_"

LANGUAGES = ("en", "fr")
LEVELS = ("very low", "low", "average", "high", "very high")

ASSIGNMENTS_CSV = "assignments.csv"
ASSIGNMENTS_PARQUET = "assignments.parquet"
PROFILES_CSV = "profiles.csv"
K_SELECTION_CSV = "k_selection.csv"
TOP_PRODUCTS_CSV = "top_products.csv"
PRODUCT_REVENUE_PARQUET = "product_revenue.parquet"
CLEANING_JSON = "cleaning.json"
RUN_JSON = "run.json"
MODEL_JSON = "model.json"
REPORT_HTML = "report.html"


def z_column(feature: str) -> str:
    """Name of the column holding `feature` in model units."""
    return f"{Z_PREFIX}{feature}"
