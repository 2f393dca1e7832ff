"""The command line's cluster options that need no Spark: a remote output refused, python -m custseg."""

import subprocess
import sys

from typer.testing import CliRunner

from custseg.cli import app


def test_a_remote_output_is_refused_in_one_line(tmp_path):
    for output in ("s3a://bucket/out", "hdfs:///runs/2021", "s3a:"):
        result = CliRunner().invoke(app, ["run", str(tmp_path / "sales.csv"), "--preset", "salesforce-cpq", "-o", output])
        assert result.exit_code == 2
        assert result.output.strip() == (f"Error: -o {output}: outputs are written on the driver's local disk; give a "
                                         "local folder and copy it to the cluster's storage afterwards (e.g. hadoop fs -put)")
    assert not (tmp_path / "s3a:").exists()


def test_python_m_custseg_is_the_command_line():
    result = subprocess.run([sys.executable, "-m", "custseg", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("custseg ")
