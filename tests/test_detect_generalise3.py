"""Third generalisation pass: table / definition cells listing one-character values, profiling of
people who criticise the government online, passive face scraping into a gallery, signs of union
organising, and reports that cite a vendor's material.

All passages are invented vendor / report wording, different from tests/data/detect_heldout10.jsonl.
"""

from __future__ import annotations

import pytest

from support_detect import cats, html_cats


# 1. Output-attribute cells whose value lists abbreviate colours to one character.
@pytest.mark.parametrize("markup,encoding", [
    ("<table><tr><th>輸出屬性</th><td>口罩、膚色（黃／白／黑）、年齡</td></tr></table>", "big5"),
    ("<table><tr><td>结构化输出属性</td><td>发型、肤色(黄,白,黑)、背包</td></tr></table>", "gbk"),
    ("<dl><dt>Output attributes</dt><dd>hat, skin tone (Y/W/B), bag</dd></dl>", "utf-8"),
])
def test_cells_with_one_character_colour_values(markup, encoding):
    assert html_cats(f"<html><body>{markup}</body></html>", encoding) == {"race"}


def test_colon_list_after_skin_colour_in_prose():
    assert cats("人脸分析输出属性：年龄段、肤色：黄/白/黑。") == {"race"}


@pytest.mark.parametrize("markup,encoding", [
    # product colours and vehicle attributes: no skin-colour term
    ("<table><tr><th>输出属性</th><td>车型、车身颜色（黄、白、黑）</td></tr></table>", "gbk"),
    ("<dl><dt>可選顏色</dt><dd>電源線（黃、白、黑）</dd></dl>", "big5"),
    # one character that is not an abbreviated value: not a list
    ("<table><tr><th>輸出屬性</th><td>膚色（淺）</td></tr></table>", "big5"),
])
def test_colour_lists_without_a_skin_colour_value_list_stay_quiet(markup, encoding):
    assert html_cats(f"<html><body>{markup}</body></html>", encoding) == set()


# 2. People who criticise the government online, flagged for security follow-up.
@pytest.mark.parametrize("text", [
    "The module ranks accounts of citizens who are critical of the government and forwards them to police.",
    "Sentiment Watch detects people posting government criticism and alerts the security bureau.",
    "平台可识别发布反政府言论的用户，并推送给公安部门重点关注。",
    "系統對負面言論人員進行標記並預警。",  # Traditional
])
def test_online_critics_profiled(text):
    assert "political" in cats(text)


@pytest.mark.parametrize("text", [
    "Citizens voiced criticism of the government at the town hall meeting.",
    "网友发表批评政府的文章后引发热议。",
    "Workers held protests outside the ministry on Tuesday.",
])
def test_criticism_in_general_news_stays_quiet(text):
    assert cats(text) == set()


# 3. Face images collected passively from websites / public cameras to grow a gallery.
@pytest.mark.parametrize("text", [
    "Facial images are gathered from discussion forums every hour to enlarge the gallery.",
    "Portraits collected from public websites are added to the watch gallery without consent.",
    "系統自動蒐集論壇上的人臉照片，用於擴充底庫。",  # Traditional
    "平台自动采集公开视频中的人脸，扩充人脸库。",
])
def test_passive_face_scraping(text):
    assert "face_scraping" in cats(text)


@pytest.mark.parametrize("text", [
    "Licensed stock photos are gathered from partner websites for our image catalogue.",
    "The academic crawler collected web images for a captioning research project.",
])
def test_stock_and_academic_crawlers_stay_quiet(text):
    assert cats(text) == set()


# 4. Signs of union organising, flagged so HR can act.
@pytest.mark.parametrize("text", [
    "The retention dashboard flags union sympathisers on each shift for HR review.",
    "Analytics highlight teams where unionisation is likely so managers can intervene.",
    "系统能分析员工聊天记录，标记有筹建工会倾向的员工。",
    "系統可偵測有組建工會跡象的員工並通知人資部門。",  # Traditional
])
def test_union_organising_inferred(text):
    assert "trade_union" in cats(text)


@pytest.mark.parametrize("text", [
    "Staff at the depot voted to unionise, the local paper said.",
    "公司工会组织职工参加节日慰问活动。",
])
def test_union_news_stays_quiet(text):
    assert cats(text) == set()


# 5. A report citing a vendor's material, with the vendor's denial, is about someone else's claim.
@pytest.mark.parametrize("text", [
    "报告引述该厂商的产品手册称，其系统可识别维族人脸，该厂商予以否认。",
    "報告援引廠商宣傳資料稱能辨識抗議者，廠商隨後否認。",  # Traditional
    "The NGO quotes a sales deck claiming the camera recognises Uyghur faces; the vendor rejects this.",
    "Researchers citing the firm's datasheet say it classifies faces by skin colour (yellow/white/black).",
])
def test_cited_vendor_claims_are_reports(text):
    assert cats(text) == set()


def test_vendor_claim_without_citation_still_fires():
    assert cats("本系统可识别维族人脸并实时告警。") == {"ethnicity"}
