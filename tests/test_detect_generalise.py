"""Generalisation pass: religious practice as behaviour, predicted likelihood of offending, JSON value maps.

All passages are invented vendor / API-doc wording, different from tests/data/detect_heldout8.jsonl.
"""

from __future__ import annotations

import json

import pytest

from claimwatch.detect import detect
from claimwatch.extract import extract
from support_detect import cats, check_offsets


def json_findings(obj) -> list:
    text = extract(json.dumps(obj, ensure_ascii=False).encode("utf-8"), filename="resp.json").text
    found = detect(text)
    check_offsets(text, found)
    return found


@pytest.mark.parametrize("text", [
    "Mosque-area analytics: the camera identifies worshippers kneeling and raises an alert for each person praying outside.",
    "Behaviour module flags passengers performing religious rituals on the platform.",
    "园区视频可自动识别员工在工位跪拜、诵经等行为并推送预警。",
    "平台對旅客在候車大廳禮拜、祈禱的行為進行偵測並告警。",  # Traditional
    "社区摄像头检测居民封斋情况，生成名单上报。",
])
def test_religious_practice_as_monitored_behaviour(text):
    found = detect(text)
    check_offsets(text, found)
    assert "religion" in {f.category for f in found}


def test_religious_practice_list_items_share_the_lead_in():
    text = "Video analytics events:\n- crowding\n- smoking\n- collective prayer in the plaza\n- running"
    assert "religion" in cats(text)


@pytest.mark.parametrize("text", [
    "Seminar notes: the history of fasting and worship in medieval monasteries.",
    "宗教学讲座：介绍佛教诵经与礼拜仪式的历史。",
    "The wellness app tracks your intermittent fasting schedule.",
    "Staff may use the prayer room on the second floor.",
    "据报道，该公司曾宣称摄像头能识别街头祈祷的行人。",
])
def test_religion_topics_without_monitoring_stay_quiet(text):
    assert "religion" not in cats(text)


@pytest.mark.parametrize("text", [
    "The engine outputs, for each citizen, the probability of committing a violent offence next year.",
    "Officers receive a ranked list of individuals with the highest chance of committing burglary.",
    "Model inputs: prior arrests, friends and income; output: propensity to commit crime for every resident.",
    "系统结合人员轨迹与社会关系，评估其再犯可能性并推送给民警。",
    "平台計算每位居民的作案機率，高者列入重點人員。",  # Traditional; 机率 = probability (Taiwan usage)
])
def test_likelihood_of_offending_is_predictive_policing(text):
    found = detect(text)
    check_offsets(text, found)
    assert "predictive_policing" in {f.category for f in found}


@pytest.mark.parametrize("text", [
    "Crime rates by district fell 9% last year, the annual statistics show.",
    "研究显示，失业率上升会提高犯罪的可能性。",
    "Risk of offending rises with unemployment, a criminology textbook explains.",
    "Linting reduces the risk of committing errors to the main branch.",
    "According to a news report, the vendor claims to compute each resident's probability of committing a crime.",
])
def test_crime_statistics_and_reports_stay_quiet(text):
    assert "predictive_policing" not in cats(text)


@pytest.mark.parametrize("obj,category", [
    ({"face": {"nation_values": ["Han", "Uyghur", "Kazakh"]}}, "ethnicity"),
    ({"attr": {"ethnic_options": {"a": "Tibetan", "b": "Uyghur"}}}, "ethnicity"),
    ({"输出": {"民族列表": ["汉族", "回族", "维吾尔族"]}}, "ethnicity"),
    ({"skin_colour_map": {"0": "yellow", "1": "black", "2": "white"}}, "race"),
    ({"labels": {"race_enum": ["asian", "african", "caucasian"]}}, "race"),
    ({"屬性": {"膚色取值": ["黃色", "白色", "黑色"]}}, "race"),  # Traditional keys and values
])
def test_json_value_maps_are_attribute_value_lists(obj, category):
    found = [f for f in json_findings(obj) if f.category == category]
    assert found and any(f.rule == f"{category}.attribute-values" for f in found)


@pytest.mark.parametrize("obj", [
    {"foundation": {"skin_tone_values": ["ivory", "beige", "sand", "espresso"]}},
    {"ui": {"language_values": ["Uyghur", "Tibetan", "Kazakh"]}},
    {"nation_list": ["China", "France", "Kenya"]},
    {"palette": {"color_values": ["yellow", "white", "black"]}},
    {"idcard": {"name": "...", "nation": "汉", "address": "..."}},
])
def test_json_maps_without_attribute_values_stay_quiet(obj):
    assert not {f.category for f in json_findings(obj)} & {"ethnicity", "race"}


@pytest.mark.parametrize("text", [
    "The Emotion Recognition in the Wild corpus contains 1,200 labelled film clips released for academic research.",
    "We publish MoodFaces, an emotion recognition benchmark of 15k face images with six expression labels.",
    "Our ICCV paper on facial expression recognition reaches 71% accuracy on a public test split.",
    "《面向课堂的表情识别方法》论文在公开数据集上验证了所提网络。",
    "該情緒識別資料集收錄2萬張人臉圖像，僅供學術研究使用。",
])
def test_emotion_datasets_and_papers_are_not_products(text):
    assert "emotion" not in cats(text)


def test_emotion_product_still_detected_next_to_the_dataset_rule():
    assert "emotion" in cats("MoodDesk runs emotion recognition on office webcams and alerts managers to stressed employees.")


def test_vendor_material_seen_by_reporters_is_a_report():
    assert not cats("A sales deck seen by reporters says the cameras flag people praying in the square.")
