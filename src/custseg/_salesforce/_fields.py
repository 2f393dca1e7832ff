"""`fields`: an SFDX source folder that creates the target fields and grants access to them."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

from .._atomic import staged_directory
from ._settings import DEFAULT_API_VERSION
from ._targets import CREATED, ROLE_LABELS, PushFields

NAMESPACE = "http://soap.sforce.com/2006/04/metadata"
EDIT_SET = "Custseg_Segments_Edit"
READ_SET = "Custseg_Segments_Read"
DESCRIPTIONS = {
    "segment": "Customer segment assigned by custseg (K-means on sales lines), as approved at the business review.",
    "segment_id": "Identifier of the custseg segment (kept by the yearly refresh while the segment persists).",
    "action": "Next step proposed for the customer's segment, as approved at the business review.",
    "date": "Date of the segmentation run that assigned the segment.",
    "score": "Distance of the customer to its segment center (lower = more typical).",
    "model": "Identifier of the custseg model that assigned the segment.",
}


def _type_xml(role: str) -> str:
    """The type part of a field's metadata (`_targets.CREATED`: Text, Number, LongTextArea or Date)."""
    kind, length, scale, precision = CREATED[role]
    if kind == "string":
        return f"    <length>{length}</length>\n    <type>Text</type>\n"
    if kind == "textarea":
        return f"    <length>{length}</length>\n    <type>LongTextArea</type>\n    <visibleLines>3</visibleLines>\n"
    if kind == "double":
        return f"    <precision>{precision}</precision>\n    <scale>{scale}</scale>\n    <type>Number</type>\n"
    return "    <type>Date</type>\n"


def field_xml(role: str, name: str) -> str:
    """CustomField metadata of one target field.

    >>> "<type>Text</type>" in field_xml("segment", "Segment__c")
    True
    """
    unique = "    <unique>false</unique>\n" if role in ("segment", "model") else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<CustomField xmlns="{NAMESPACE}">\n'
        f"    <fullName>{escape(name)}</fullName>\n"
        f"    <description>{escape(DESCRIPTIONS[role])}</description>\n"
        "    <externalId>false</externalId>\n"
        f"    <inlineHelpText>{escape(DESCRIPTIONS[role])} Written by custseg; do not edit by hand.</inlineHelpText>\n"
        f"    <label>{escape(ROLE_LABELS[role])}</label>\n"
        "    <required>false</required>\n"
        "    <trackHistory>false</trackHistory>\n"
        f"{_type_xml(role)}{unique}"
        "</CustomField>\n"
    )


def permission_set_xml(label: str, description: str, object_name: str, names: list[str], editable: bool) -> str:
    """A PermissionSet granting read (and edit) on the given fields."""
    grants = "".join(
        "    <fieldPermissions>\n"
        f"        <editable>{str(editable).lower()}</editable>\n"
        f"        <field>{escape(object_name)}.{escape(name)}</field>\n"
        "        <readable>true</readable>\n"
        "    </fieldPermissions>\n"
        for name in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<PermissionSet xmlns="{NAMESPACE}">\n'
        f"    <description>{escape(description)}</description>\n"
        f"{grants}"
        "    <hasActivationRequired>false</hasActivationRequired>\n"
        f"    <label>{escape(label)}</label>\n"
        "</PermissionSet>\n"
    )


def readme(object_name: str, names: list[str], api_version: str) -> str:
    """What the admin does with the folder."""
    listed = "\n".join(f"- `{object_name}.{name}`" for name in names)
    return f"""# Salesforce fields for custseg

This SFDX source folder creates the fields that `custseg salesforce push` writes:

{listed}

and two permission sets: `{EDIT_SET}` (read and edit: give it to the user whose
credentials custseg uses) and `{READ_SET}` (read only: give it to the CRM users who
should see the segment).

## Steps (a Salesforce admin)

1. Deploy, from this folder (Salesforce CLI `sf`, API {api_version}):

       sf project deploy start --source-dir force-app --target-org <alias>

   Try it on a sandbox first. Without the CLI: create the fields by hand in Setup >
   Object Manager > {object_name} > Fields & Relationships with the names, types and
   lengths in `force-app/main/default/objects/{object_name}/fields/`.
2. Assign the permission sets:

       sf org assign permset --name {EDIT_SET} --target-org <alias> --on-behalf-of <integration user>
       sf org assign permset --name {READ_SET} --target-org <alias> --on-behalf-of <crm user>

3. Make the fields visible on the customer screen: Setup > Object Manager >
   {object_name} > Page Layouts (or Lightning Record Pages), drag the fields onto the
   layout used by the CRM users, save. Fields not on a layout exist but are not seen.
4. Check with a dry run: `custseg salesforce push out/` stops before sending anything
   if a field is missing or not editable.
"""


def write_field_metadata(
    out_dir: str | Path,
    fields: PushFields | None = None,
    api_version: str = DEFAULT_API_VERSION,
    overwrite: bool = False,
) -> list[Path]:
    """Write the SFDX folder for the fields of `fields` (default: `PushFields()`'s four) and return its files.

    >>> write_field_metadata("sfdx/")  # doctest: +SKIP
    """
    fields = fields or PushFields()
    targets = fields.targets()
    obj = fields.object_name
    written: list[str] = []
    with staged_directory(out_dir, overwrite=overwrite) as stage:
        base = stage / "force-app" / "main" / "default"

        def put(relative: str, text: str) -> None:
            path = stage / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(relative)

        project = {"packageDirectories": [{"path": "force-app", "default": True}], "name": "custseg-fields",
                   "sourceApiVersion": api_version}
        put("sfdx-project.json", json.dumps(project, indent=2) + "\n")
        for role, name in targets.items():
            put(str((base / "objects" / obj / "fields" / f"{name}.field-meta.xml").relative_to(stage)), field_xml(role, name))
        names = list(targets.values())
        put(str((base / "permissionsets" / f"{EDIT_SET}.permissionset-meta.xml").relative_to(stage)),
            permission_set_xml("Custseg segments (edit)", "Read and edit the custseg segment fields (integration user).", obj, names, True))
        put(str((base / "permissionsets" / f"{READ_SET}.permissionset-meta.xml").relative_to(stage)),
            permission_set_xml("Custseg segments (read)", "Read the custseg segment fields (CRM users).", obj, names, False))
        put("README.md", readme(obj, names, api_version))
    return [Path(out_dir) / relative for relative in written]
