"""`fields`: SFDX CustomField metadata and permission sets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from custseg._errors import UsageError
from custseg._salesforce import PushFields, write_field_metadata

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}


def test_field_and_permission_set_metadata(tmp_path):
    fields = PushFields(segment="Segment_Client__c", score="Segment_Score__c", date="Segment_Date__c", model="Segment_Model__c")
    written = write_field_metadata(tmp_path / "sfdx", fields, api_version="62.0")
    base = tmp_path / "sfdx" / "force-app" / "main" / "default"
    assert all(p.is_file() for p in written)
    segment = ET.parse(base / "objects" / "Account" / "fields" / "Segment_Client__c.field-meta.xml").getroot()
    assert segment.findtext("m:fullName", namespaces=NS) == "Segment_Client__c"
    assert (segment.findtext("m:type", namespaces=NS), segment.findtext("m:length", namespaces=NS)) == ("Text", "80")
    score = ET.parse(base / "objects" / "Account" / "fields" / "Segment_Score__c.field-meta.xml").getroot()
    assert (score.findtext("m:type", namespaces=NS), score.findtext("m:scale", namespaces=NS)) == ("Number", "4")
    date = ET.parse(base / "objects" / "Account" / "fields" / "Segment_Date__c.field-meta.xml").getroot()
    assert date.findtext("m:type", namespaces=NS) == "Date"
    edit = ET.parse(base / "permissionsets" / "Custseg_Segments_Edit.permissionset-meta.xml").getroot()
    grants = {p.findtext("m:field", namespaces=NS): (p.findtext("m:readable", namespaces=NS), p.findtext("m:editable", namespaces=NS))
              for p in edit.findall("m:fieldPermissions", NS)}
    assert grants == {f"Account.{n}": ("true", "true") for n in fields.targets().values()}
    read = ET.parse(base / "permissionsets" / "Custseg_Segments_Read.permissionset-meta.xml").getroot()
    assert {p.findtext("m:editable", namespaces=NS) for p in read.findall("m:fieldPermissions", NS)} == {"false"}
    assert json.loads((tmp_path / "sfdx" / "sfdx-project.json").read_text())["sourceApiVersion"] == "62.0"
    readme = (tmp_path / "sfdx" / "README.md").read_text()
    assert "sf project deploy start" in readme and "Page Layouts" in readme and "Custseg_Segments_Edit" in readme


@pytest.mark.parametrize("name", ["Segment", "Seg ment__c", "Segment__c<x>", "Se__gment__c__c", "_Segment__c", "Segment___c"])
def test_field_names_must_be_custom_field_names(name):
    with pytest.raises(UsageError, match="is not a custom field name"):
        PushFields(segment=name)


def test_existing_folder_needs_overwrite(tmp_path):
    write_field_metadata(tmp_path / "sfdx")
    with pytest.raises(UsageError, match="--overwrite"):
        write_field_metadata(tmp_path / "sfdx")
    write_field_metadata(tmp_path / "sfdx", overwrite=True)
