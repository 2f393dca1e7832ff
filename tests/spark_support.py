"""What the Spark tests share: the reason to skip them when Java is missing."""

import os
import shutil
import subprocess


def java_problem() -> str | None:
    """Why PySpark cannot start here (no Java, or `java -version` fails); None when it can."""
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin") if os.environ.get("JAVA_HOME") else None)
    if not java:
        return "Java not found (PySpark needs Java 17 or later on PATH or JAVA_HOME)"
    try:
        subprocess.run([java, "-version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"java -version failed: {exc}"
    return None
