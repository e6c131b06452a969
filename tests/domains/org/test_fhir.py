"""The organisation in the FHIR repository: campuses, places, departments and practitioners as R4
resources with the rows' ids, written again without a new version when nothing changed, and refused to a
FHIR client's write."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.factories import fhir as ff
from tests.factories import org as orgf
from zhiyi.cli import app
from zhiyi.core import migrate
from zhiyi.domains.org import fhir


@pytest.fixture
async def hospital(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    east = await orgf.campus(session, code="EAST")
    building, floor = await orgf.floor(session, campus=main, level=3)
    im = await orgf.department(session, code="IM")
    card = await orgf.department(session, code="IM.CARD", parent=im)
    await orgf.clinic(session, department=card, campus=main, floor=floor)
    await orgf.clinic(session, department=card, campus=east)
    room = await orgf.room(session, campus=main, floor=floor, code="301")
    doctor = await orgf.practitioner(session, department=card, campuses=[main, east], title="chief")
    return main, east, building, floor, im, card, room, doctor


async def test_every_org_row_is_a_valid_resource_with_its_id(session, hospital):
    main, east, building, floor, im, card, room, doctor = hospital
    assert await fhir.project_all(session) > 0

    org = ff.valid(await ff.current(session, "Organization", main.id))
    assert org["identifier"] == [{"system": "urn:zhiyi:campus", "value": "MAIN"}]
    assert org["name"] == main.name_zh and org["alias"] == [main.name_en]
    site = ff.valid(await ff.current(session, "Location", main.id))
    assert site["physicalType"]["coding"][0]["code"] == "si"
    assert site["managingOrganization"] == {"reference": f"Organization/{main.id}"}
    b = ff.valid(await ff.current(session, "Location", building.id))
    f = ff.valid(await ff.current(session, "Location", floor.id))
    r = ff.valid(await ff.current(session, "Location", room.id))
    assert b["partOf"] == {"reference": f"Location/{main.id}"}
    assert f["partOf"] == {"reference": f"Location/{building.id}"}
    assert r["partOf"] == {"reference": f"Location/{floor.id}"}
    assert r["identifier"] == [{"system": "urn:zhiyi:location", "value": "MAIN/301"}]

    service = ff.valid(await ff.current(session, "HealthcareService", card.id))
    assert service["type"][0]["coding"] == [
        {"system": "urn:zhiyi:department", "code": "IM.CARD", "display": card.name_zh}
    ]
    assert service["category"][0]["coding"][0]["code"] == "IM"  # its parent group
    assert sorted(x["reference"] for x in service["location"]) == sorted(
        [f"Location/{main.id}", f"Location/{floor.id}", f"Location/{east.id}"]
    )
    assert ff.valid(await ff.current(session, "HealthcareService", im.id))["name"] == im.name_zh

    person = ff.valid(await ff.current(session, "Practitioner", doctor.id))
    assert person["identifier"] == [{"system": "urn:zhiyi:staff-number", "value": doctor.code}]
    assert person["name"][0] == {"use": "official", "text": doctor.name_zh}
    assert person["name"][1]["family"] == "Doctor"  # the pinyin's first word: the surname
    assert person["gender"] == "female" and person["active"] is True
    assert person["qualification"][0]["code"]["coding"][0] == {
        "system": "urn:zhiyi:practitioner-title",
        "code": "chief",
    }
    role = ff.valid(await ff.current(session, "PractitionerRole", doctor.id))
    assert role["practitioner"] == {"reference": f"Practitioner/{doctor.id}"}
    assert role["healthcareService"] == [{"reference": f"HealthcareService/{card.id}"}]
    assert role["code"][0]["coding"][0]["code"] == "doctor"
    assert sorted(x["reference"] for x in role["location"]) == sorted(
        [f"Location/{main.id}", f"Location/{east.id}"]
    )


async def test_projecting_again_makes_no_new_version_until_a_row_changes(session, hospital):
    doctor = hospital[-1]
    await fhir.project_all(session)
    assert await ff.version(session, "Practitioner", doctor.id) == "1"
    assert await fhir.project_all(session) == 0
    assert await ff.version(session, "Practitioner", doctor.id) == "1"
    doctor.active = False
    await session.flush()
    assert await fhir.project_all(session) == 2  # the Practitioner and their role
    assert (await ff.current(session, "Practitioner", doctor.id))["active"] is False
    assert await ff.version(session, "Practitioner", doctor.id) == "2"


async def test_a_fhir_client_cannot_change_the_organisation(client, session, hospital, admin_headers):
    main = hospital[0]
    await fhir.project_all(session)
    await session.commit()
    before = await ff.current(session, "Organization", main.id)
    changed = {**before, "name": "改名"}
    changed.pop("meta")
    r = await client.put(f"/fhir/Organization/{main.id}", headers=admin_headers, json=changed)
    assert r.status_code == 422, r.text
    assert r.json()["issue"][0]["code"] == "business-rule"
    r = await client.delete(f"/fhir/Organization/{main.id}", headers=admin_headers)
    assert r.status_code == 422, r.text
    r = await client.get(f"/fhir/Organization/{main.id}", headers=admin_headers)
    assert r.status_code == 200 and r.json() == before


def test_fhir_sync_writes_the_rows_of_a_database(fresh_db_url):
    migrate.upgrade(fresh_db_url)
    r = CliRunner().invoke(app, ["fhir", "sync", "--db", fresh_db_url])
    assert r.exit_code == 0, r.output
    assert "scheduling" in r.output and "patients" in r.output
