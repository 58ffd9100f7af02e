"""Regions on English pages (issue 15: the region 江南省临川市青溪县 was shown untranslated)."""
from core.extensions import db
from core.regions import region_in_english
from tests.factories import make_campaign


def test_a_region_reads_in_english_smallest_level_first():
    assert region_in_english("江南省临川市青溪县") == "Qingxi County, Linchuan City, Jiangnan Province"
    assert region_in_english("广西壮族自治区") == "Guangxizhuangzu Autonomous Region"  # 自治区, not 自治 + 区
    assert region_in_english("市中区") == "Shizhong District"  # a name may hold a suffix character
    assert region_in_english("青溪县城关镇") == "Chengguan Town, Qingxi County"
    assert region_in_english("临川") == "Linchuan"  # no known suffix: spelled as written
    assert region_in_english("") == ""


def test_the_campaign_page_shows_its_region_in_the_reader_s_language(client):
    campaign = make_campaign()  # scope 江南省临川市青溪县
    db.session.commit()
    assert "江南省临川市青溪县" in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    with client.session_transaction() as session:
        session["language"] = "en"
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Qingxi County, Linchuan City, Jiangnan Province" in page and "江南省临川市青溪县" not in page
