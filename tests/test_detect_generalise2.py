"""Second generalisation pass: prohibitions as denials, estimation verbs, HTML definition lists and
tables, rally attendees matched to opposition databases, trust / citizen ratings with penalties.

All passages are invented vendor / policy wording, different from tests/data/detect_heldout9.jsonl.
"""

from __future__ import annotations

import pytest

from claimwatch.detect import detect
from support_detect import cats, check_offsets, html_cats


# 1. Prohibitions and refusals deny every attribute they list, in English and Chinese.
@pytest.mark.parametrize("text", [
    "Our code of conduct prohibits using the platform to categorise guests by race, ethnic origin, religion or political views.",
    "Vendors we certify must not deploy cameras that classify pedestrians by skin colour, faith or sexual orientation.",
    "The retailer refused to enable modules that identify customers' ethnicity or religion from CCTV.",
    "严禁利用监控视频对群众的民族、宗教信仰、政治观点进行识别或标记。",
    "本系統不得依膚色、種族或宗教信仰對乘客進行分類辨識。",  # Traditional
    "公司杜绝任何按民族或宗教对员工人脸进行分析的做法。",
    "我们拒绝为任何客户提供针对少数民族或信教人员的识别功能。",
])
def test_prohibitions_deny_all_listed_attributes(text):
    found = detect(text)
    check_offsets(text, found)
    assert found == []


def test_ban_used_as_a_penalty_still_scores():
    text = "Residents whose social credit score drops below 600 are banned from buying train tickets."
    assert "social_scoring" in cats(text)
    assert "social_scoring" in cats("诚信积分低于60分的村民不得申请低保。")


# 2. Estimation verbs with a person and a value list.
@pytest.mark.parametrize("text, cat", [
    ("The mall sensor estimates the race of every visitor: White, Black, Asian or Latino.", "race"),
    ("Each camera guesses the ethnicity of passers-by and tallies Han, Uyghur and Hui counts per hour.", "ethnicity"),
    ("The audience module determines the religion of each patron (Muslim, Hindu, Christian).", "religion"),
    ("Our edge box infers the race of customers at checkout: Caucasian, African, Asian.", "race"),
])
def test_estimation_verbs_about_persons(text, cat):
    assert cat in cats(text)


def test_sports_race_stays_quiet():
    assert cats("Our timing system estimates who will win the race from lap data of each runner.") == set()


# 3. HTML definition lists and tables: the <dt>/<th> is the lead-in of its cells.
def test_definition_list_header_is_the_lead_in():
    markup = ("<dl><dt>Returned attributes</dt><dd>age range</dd><dd>hair colour</dd>"
              "<dd>ethnicity: Uyghur / Han / Kazakh</dd></dl>")
    assert html_cats(markup) == {"ethnicity"}


def test_table_header_and_neighbour_cell_make_the_value_list():
    markup = ("<table><tr><th>识别属性</th><th>可选值</th></tr><tr><td>年龄</td><td>0-99</td></tr>"
              "<tr><td>肤色</td><td>黄色/白色/黑色/棕色</td></tr></table>")
    assert html_cats(markup, "gbk") == {"race"}


def test_lone_weak_term_in_a_menu_stays_quiet():
    markup = ("<ul><li>Face recognition</li><li>People counting</li><li>Ethnic cuisine festival</li>"
              "<li>Contact</li></ul>")
    assert html_cats(markup) == set()


def test_table_of_vehicle_colours_stays_quiet():
    markup = ("<table><tr><th>Output attributes</th><th>Values</th></tr>"
              "<tr><td>car colour</td><td>white / black / silver</td></tr></table>")
    assert html_cats(markup) == set()


# 4. Rally attendees matched to opposition / activist databases.
@pytest.mark.parametrize("text", [
    "Drone analytics recognise people at political rallies and compare each face with a list of opposition activists.",
    "系统抓拍集会人员人脸，自动比对维权人员数据库并推送告警。",
    "平台可辨識集會現場人員，與反對派人士名單即時比對。",  # Traditional
])
def test_rally_attendees_matched_to_opposition_lists(text):
    assert "political" in cats(text)


def test_protest_news_stays_quiet():
    assert cats("Demonstrators marched through the capital on Sunday; organisers said 20,000 people attended the rally.") == set()


# 5. Trust / citizen ratings with detrimental treatment.
@pytest.mark.parametrize("text", [
    "The city assigns each household a citizen rating, and low-rated households are refused school places.",
    "A trust rating is computed from residents' conduct; anyone below three stars loses access to public housing.",
])
def test_trust_and_citizen_ratings_with_penalties(text):
    assert "social_scoring" in cats(text)


@pytest.mark.parametrize("text", [
    "Employees who collect 10 attendance points for unplanned absences lose eligibility for leave carry-over.",
    "Our review analytics scores product reviews by sentiment and flags angry customers in support tickets.",
    "Government departments must not discriminate against applicants on grounds of race, ethnicity or religion.",
    "工会与公司管理层举行会议，讨论员工加班费标准。",
    "In our 2025 workforce report, 22% of staff identify as Asian and 15% as Black.",
])
def test_hard_negatives_stay_quiet(text):
    assert cats(text) == set()


@pytest.mark.parametrize("text", [
    "禁止区域入侵检测，人员民族识别（汉/维/回）。",  # 禁止区域 is a feature, the next clause is a claim
    "禁止區域入侵偵測，人員民族識別（漢/維/回）。",  # Traditional
])
def test_denial_reaches_only_its_own_clause(text):
    assert cats(text) == {"ethnicity"}


def test_each_clause_with_its_own_denial_stays_quiet():
    assert cats("我们不提供民族识别，也不做宗教分析。") == set()
