"""Issue 21 item 2: the cancellation rules as an option and the salesforce-cpq preset's default."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from custseg import ColumnMapping, preset
from custseg._errors import UsageError
from custseg.cli import app


def test_signed_is_the_cpq_default_and_drop_stays_an_option():
    assert preset("salesforce-cpq").cancellations == "signed" and preset("online-retail").cancellations == "net"
    assert preset("salesforce-cpq").with_overrides(cancellations="drop").cancellations == "drop"
    with pytest.raises(UsageError, match=r"^cancellations must be one of net, signed, drop; got 'keep'$"):
        ColumnMapping(customer="c", cancellations="keep")


def test_the_command_line_reads_cancellations_signed(tmp_path):
    data = tmp_path / "cpq.csv"
    lines = [f"c{i},L{i},seat,{1 + i % 5},{20 * (1 + i)},01/01/2023" for i in range(12)]
    data.write_text("acct,line,sku,qty,price,day\n" + "\n".join(lines) + "\nA,LA1,seat,10,100,01/01/2023\n"
                    "A,LA2,seat,-4,50,01/06/2023\n")
    result = CliRunner().invoke(app, ["run", str(data), "--customer", "acct", "--order", "line", "--product", "sku",
                                      "--quantity", "qty", "--price", "price", "--date", "day", "--date-format",
                                      "%d/%m/%Y", "--cancellations", "signed", "--k", "2", "-o", str(tmp_path / "out"),
                                      "--no-report"])
    assert result.exit_code == 0, result.output
    assert "cancellations summed signed: 1 amendment line(s)" in result.output.replace("\n", "")
    assert '"rule": "signed"' in (tmp_path / "out" / "cleaning.json").read_text()
