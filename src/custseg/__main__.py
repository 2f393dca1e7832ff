"""`python -m custseg ...`, and the file spark-submit runs: `spark-submit --master URL .../custseg/__main__.py run ...`.

spark-submit takes a file without a `.py` suffix (the `custseg` console script) for a JAR;
this file is the command line under a name it runs as Python. Under spark-submit the
Spark engine uses spark-submit's master (`_engines._spark_session`).
"""

from custseg.cli import main

if __name__ == "__main__":
    main()
