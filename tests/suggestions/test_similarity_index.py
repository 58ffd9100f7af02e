"""The saved similarity index (suggestions.dedup_index, suggestions.similarity_index): saved and mapped as one file, added
to past its buffer, shared by processes that save at the same time, queried by threads while others add, and
kept working when nothing can be saved."""
import mmap
import os
import threading

import numpy as np
import pytest

from campaigns.models import Campaign
from core import jobs
from core.extensions import db
from suggestions import dedup, similar, similarity_index
from tests.factories import make_campaign, make_suggestion, make_user
from tests.suggestions.test_dedup import PROPOSALS, TEXT

NUMBERED = [(i, text, int(author[1:])) for i, (_, text, author) in enumerate(PROPOSALS, start=100)]
DRAFTS = ["小区停车位不够，晚上很多车停在消防通道上", "学校门口放学时车辆乱停，交通拥堵", "公园晚上广场舞声音太大"]


def same_hits(a: dedup.Index, b: dedup.Index, text: str) -> bool:
    return [(m.id, round(m.score, 5), m.kind) for m in a.query(text, 8)] == \
        [(m.id, round(m.score, 5), m.kind) for m in b.query(text, 8)]


def test_an_index_added_to_past_its_buffer_keeps_every_item():
    index = dedup.Index(NUMBERED[:2], buffer_size=2)
    for item_id, text, author in NUMBERED[2:]:
        index.add(item_id, text, author)  # merges every second addition
    assert len(index) == len(NUMBERED)
    assert all(item_id in index for item_id, _, _ in NUMBERED)
    assert index.query(TEXT[11], 1)[0].id in (100, 101, 102)  # the red-light proposals, wherever they are stored


def test_a_saved_index_is_one_mapped_file_and_answers_like_the_one_in_memory(tmp_path):
    built = dedup.Index(reversed(NUMBERED))  # ids descending: saved ascending
    built.remove(105)
    built.add(200, TEXT[20], 4)
    built.save(tmp_path / "saved", seen_until="2026-12-06T00:00:00+00:00")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["index.bin", "meta.json"]
    loaded, meta = dedup.Index.load(tmp_path / "saved")
    assert _mapped(loaded.rows.data) and meta["seen_until"].startswith("2026-12-06")
    assert list(loaded.ids) == sorted(loaded.ids) and 105 not in loaded and 200 in loaded
    for text in (*DRAFTS, TEXT[10], TEXT[40]):
        assert same_hits(built, loaded, text)
    loaded.remove(200)
    lamp = "城北菜市场门口的路灯坏了一个月没人修，晚上买菜的老人容易摔倒，请尽快维修。"
    loaded.add(200, lamp, 5)  # removed and added again: found under its new text
    assert loaded.query(lamp, 1)[0].id == 200 and loaded.added == 1


def _mapped(array: np.ndarray) -> bool:
    """True for a view of a memory-mapped file (not a copy in the process's memory)."""
    while isinstance(array, np.ndarray) and not isinstance(array, np.memmap):
        array = array.base
    return isinstance(array, (np.memmap, mmap.mmap))


def test_mapped_indexes_hold_one_file_each(tmp_path):
    dedup.Index(NUMBERED).save(tmp_path / "saved", seen_until="2026-12-06T00:00:00+00:00")
    before = len(os.listdir("/proc/self/fd"))
    held = [dedup.Index.load(tmp_path / "saved")[0] for _ in range(20)]
    assert len(os.listdir("/proc/self/fd")) - before <= 20
    del held


def test_a_folder_of_other_feature_constants_is_not_loaded(tmp_path, monkeypatch):
    dedup.Index(NUMBERED).save(tmp_path / "saved", seen_until="2026-12-06T00:00:00+00:00")
    monkeypatch.setattr("suggestions.dedup_index.FEATURES", "another")
    with pytest.raises(ValueError):
        dedup.Index.load(tmp_path / "saved")


def _campaign_with(texts) -> int:
    campaign = make_campaign()
    for title, body in texts:
        make_suggestion(campaign, make_user(), title=title, body=body)
    campaign_id = campaign.id
    db.session.commit()  # and no read after it: on SQLite outside a request that would hold the write lock
    return campaign_id


PARKING = [("锦绣华庭小区停车难", "锦绣华庭小区车位严重不足，晚上很多车只能停在消防通道上，建议建设立体停车场。"),
           ("城南小学门口拥堵", "每天上下学时段城南小学门口车辆拥堵，学生过马路很危险，建议增设护学岗。")]


def test_saves_at_the_same_time_leave_current_naming_a_folder_that_exists(app):
    campaign_id = _campaign_with(PARKING)
    errors = []

    def save():
        try:
            with app.app_context():
                similarity_index.save_campaign_index(campaign_id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    current = similarity_index._current_folder(campaign_id)
    assert (similarity_index._campaign_dir(campaign_id) / current / "index.bin").exists()
    assert not [p for p in similarity_index._campaign_dir(campaign_id).iterdir() if p.name.startswith(".writing-")]


def test_a_current_pointer_to_a_missing_folder_is_mended_once_not_rebuilt_on_every_hint(app, monkeypatch):
    campaign_id = _campaign_with(PARKING)
    folder = similarity_index._campaign_dir(campaign_id)
    folder.mkdir(parents=True)
    (folder / "current").write_text("gone")
    builds = []
    real_build = similarity_index._index_of
    monkeypatch.setattr(similarity_index, "_index_of", lambda rows: builds.append(1) or real_build(rows))
    for _ in range(5):
        assert similar.similar_proposals(campaign_id, "锦绣华庭小区车位不足，消防通道停满车")
    assert len(builds) == 1  # built once, saved, mapped
    assert similarity_index._current_folder(campaign_id) not in (None, "gone")
    assert similarity_index._indexes[campaign_id].folder == similarity_index._current_folder(campaign_id)


def test_a_failed_save_is_not_retried_on_every_hint(app, tmp_path, monkeypatch):
    (tmp_path / "full").write_text("")  # no folder can be made under a file, as on a full disk
    app.config.update(SIMILARITY_INDEX_DIR=str(tmp_path / "full"), SIMILARITY_INDEX_REBUILD_AFTER=0)
    campaign_id = _campaign_with(PARKING)
    saves = []
    real_save = similarity_index._save
    monkeypatch.setattr(similarity_index, "_save", lambda *a: saves.append(1) or real_save(*a))
    for _ in range(5):
        assert similar.similar_proposals(campaign_id, "锦绣华庭小区车位不足，消防通道停满车")
    assert len(saves) == 1 and similarity_index._indexes[campaign_id].folder is None


def test_threads_query_while_others_add(app):
    campaign_id = _campaign_with(PARKING)
    similar.similar_proposals(campaign_id, "锦绣华庭小区车位不足")  # mapped
    campaign = db.session.get(Campaign, campaign_id)
    errors, stop = [], threading.Event()

    def query():
        with app.app_context():
            while not stop.is_set():
                try:
                    with similarity_index.campaign_index(campaign_id) as index:
                        index.query("锦绣华庭小区停车位不够", 5)
                    db.session.rollback()  # a hint is a GET; outside a request SQLite would keep the write lock
                except Exception as error:  # noqa: BLE001 - reported below
                    errors.append(error)
                    return
    reader = threading.Thread(target=query)
    reader.start()
    try:
        for n in range(60):
            suggestion = make_suggestion(campaign, make_user(), title=f"第{n}号建议：小区停车难",
                                         body=f"锦绣华庭小区第{n}栋楼下车位不足，建议增设停车位。")
            db.session.commit()
            with similarity_index.campaign_index(campaign_id) as index:
                similarity_index.index_proposal(index, suggestion)
            db.session.commit()  # ends the read (SQLite's lock, outside a request)
    finally:
        stop.set()
        reader.join()
    assert not errors


def test_a_job_queued_under_the_index_jobs_earlier_name_still_runs():
    # build_similarity_index lived in suggestions.similar until the index got its own module; RQ finds a queued
    # job's function by the dotted name stored with it
    from rq.utils import import_attribute

    assert import_attribute("suggestions.similar.build_similarity_index") is similarity_index.build_similarity_index
    assert jobs.name_of(similarity_index.build_similarity_index) == \
        "suggestions.similarity_index.build_similarity_index"
