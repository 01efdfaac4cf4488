"""detect(): categories, hard negatives, offsets, forms (prose, lists, tables, JSON, SDK headers)."""

from __future__ import annotations

import pytest

from claimwatch.detect import Finding, detect
from support_detect import cats, check_offsets

# One invented claim per category, in Simplified Chinese and in English.
POSITIVES = [
    ("ethnicity", "摄像机抓拍人脸后自动判断目标是否为维族，并在平台上标注。"),
    ("ethnicity", "The appliance classifies every captured face as Uyghur or non-Uyghur and raises an alert."),
    ("race", "人员结构化分析：可识别人种（黄种人/白种人/黑种人）。"),
    ("race", "Our video analytics returns a race attribute for each person: Asian, Caucasian or African."),
    ("religion", "景区出入口对戴面纱人员进行自动识别并告警。"),
    ("religion", "The platform detects people wearing a niqab or hijab in the camera view."),
    ("political", "系统对上访人员进行实时比对，发现后自动告警。"),
    ("political", "The console flags petitioners arriving at government buildings using facial recognition."),
    ("trade_union", "员工画像系统可识别潜在的工会会员，并输出风险评分。"),
    ("trade_union", "The workplace analytics tool predicts which staff are union organizers from badge data."),
    ("sexual_orientation", "算法通过面部照片判断用户的性取向。"),
    ("sexual_orientation", "The model detects sexual orientation from a person's profile picture."),
    ("emotion", "课堂摄像头识别学生的情绪（开心、难过、愤怒），并统计专注度。"),
    ("emotion", "Emotion recognition monitors employees' facial expressions during customer calls."),
    ("social_scoring", "市民社会信用分低于500分者禁止购买机票。"),
    ("social_scoring", "Residents with a low social credit score are denied access to public housing."),
    ("predictive_policing", "系统基于人员轨迹与社会关系进行犯罪预测，推送给民警重点关注。"),
    ("predictive_policing", "Predictive policing module scores individuals on their risk of offending from personality data."),
    ("face_scraping", "我们从互联网社交平台爬取公开头像，构建人脸检索库。"),
    ("face_scraping", "The search index was built by scraping facial photos from social media websites."),
    ("remote_biometric_id", "商圈摄像头实时抓拍，与布控库进行1:N比对，命中即告警。"),
    ("remote_biometric_id", "Real-time facial recognition scans crowds in the public square against a police watchlist."),
]


@pytest.mark.parametrize("category,text", POSITIVES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(POSITIVES)])
def test_each_category_is_detected(category, text):
    found = detect(text)
    assert category in {f.category for f in found}, found
    check_offsets(text, found)


# Hard negatives of every kind the detector must stay quiet on.
NEGATIVES = {
    "civic slogan": "全面贯彻民族政策，铸牢中华民族共同体意识。",
    "ethnic-style fashion": "这款民族风连衣裙采用手工刺绣，夏季新品。",
    "population statistics": "全国少数民族人口为1.25亿，占总人口的8.89%。",
    "history": "1953年开始的民族识别工作前后持续了二十多年。",
    "address line": "地址：新疆维吾尔自治区乌鲁木齐市天山区解放南路1号",
    "culture": "维吾尔族木卡姆艺术和藏族唐卡都是珍贵的文化遗产。",
    "cosmetics shade": "这款粉底液有偏黄肤色和自然肤色两个色号。",
    "hand segmentation": "先用YCrCb肤色模型分割手部区域，再做手势识别。",
    "race condition": "Fixed a race condition when two cameras push frames at once.",
    "minority shareholders": "Minority shareholders may request an audit of the accounts.",
    "self-declared form": "员工登记表：姓名、民族、宗教信仰（选填）。",
    "self-reported": "Race and ethnicity (self-reported, optional): Asian / Black / White.",
    "denial zh": "本系统不支持任何民族或种族属性识别。",
    "denial en": "Our cameras do not offer ethnicity or emotion recognition of any kind.",
    "news report en": "A news report said the vendor had advertised Uyghur detection in 2019.",
    "news report zh": "据报道，该厂商曾宣称其算法可识别维族人员。",
    "substring 低维族": "在低维族流形上计算谱近似。",
    "substring 运维族": "我们是一群运维族，每天值守机房。",
    "substring 思维族": "创新思维族群的特点是敢于试错。",
    "1:1 access control": "门禁一体机：员工刷脸1:1验证通过后开门。",
    "driver fatigue": "Driver fatigue warning when the driver yawns repeatedly.",
    "night mode": "The camera switches to black and white at night.",
    "emoji stickers": "新增开心、生气、难过三款表情包贴纸。",
    "credit-card points": "信用卡积分可兑换机场贵宾厅服务。",
    "product-image crawler": "Our crawler indexes product images and prices from online shops.",
    "e-commerce profiling": "用户画像分析帮助电商平台提升推荐转化率。",
    "diversity hiring": "Diversity hiring: ethnic minorities make up 20% of this year's graduates.",
    "weather alert": "天气预警：明天有暴雨，请注意出行安全。",
    "toothpaste brand": "黑人牙膏推出新款薄荷味。",
    "fairness statement": "Recognition accuracy is consistent across skin tones and ethnicities.",
    "vehicle blacklist": "Vehicle blacklist alarm: plates are matched in real time at toll gates.",
    "text sentiment": "Sentiment analysis of product reviews shows customers are happy with delivery.",
    "language support": '{"lang": "ug", "name": "Uyghur", "direction": "rtl"}',
    "street name": "民族路派出所部署了新的监控系统。",
    "fairness, every race": "Face detection works reliably for people of every race and age.",
    "smile shutter": "Happy faces detection for photo booths: the camera takes the picture when everyone smiles.",
    "merit points": "Students can earn points for good behaviour and lose points for being late.",
    "autonomous prefecture": "甘孜藏族自治州公安局采购一批人脸识别门禁设备。",
    "regulation text": "The EU AI Act bans emotion recognition in workplaces and schools.",
    "pets": "该款相机可以识别猫狗等宠物的表情。",
    "minority languages": "Our analytics platform supports minority languages for users in rural areas.",
    "plate blacklist zh": "黑名单车辆实时报警，支持车牌识别。",
    "skin lesions": "The algorithm detects skin lesions and classifies them as benign or malignant.",
}


@pytest.mark.parametrize("kind", list(NEGATIVES))
def test_hard_negatives_stay_quiet(kind):
    text = NEGATIVES[kind]
    assert detect(text) == [], (kind, detect(text))


def test_traditional_chinese_input():
    text = "臉部屬性分析：支援民族識別（漢族、維吾爾族），並輸出置信度。"
    found = detect(text)
    assert [f.category for f in found] == ["ethnicity"]
    check_offsets(text, found)
    f = found[0]
    assert f.match == "維吾爾族"  # cut from the original (Traditional) text, not the normalised one
    assert "Uyghur" in f.gloss


def test_traditional_and_simplified_agree():
    simp = "支持人种肤色判别：黄种人、白人、黑人。"
    trad = "支援人種膚色判別：黃種人、白人、黑人。"
    a, b = detect(simp), detect(trad)
    assert [(f.category, f.rule, f.start, f.end) for f in a] == [(f.category, f.rule, f.start, f.end) for f in b]


def test_full_width_and_upper_case_are_folded():
    text = "ＦＡＣＥ ＡＴＴＲＩＢＵＴＥＳ： ＵＹＧＨＵＲ ／ ＨＡＮ"
    found = detect(text)
    assert {f.category for f in found} == {"ethnicity"}
    check_offsets(text, found)
    assert found[0].match == "ＵＹＧＨＵＲ"


def test_sdk_enum_header():
    text = (
        "typedef enum tagFACE_RACE {\n"
        "    FACE_RACE_UNKNOWN = 0,\n"
        "    FACE_RACE_YELLOW  = 1,   // 黄种人\n"
        "    FACE_RACE_WHITE   = 2,   // 白种人\n"
        "} FACE_RACE;\n"
    )
    found = detect(text)
    assert found and {f.category for f in found} == {"race"}
    assert any(f.rule == "race.enum-comment" for f in found)
    check_offsets(text, found)
    # the excerpt is the source line, cut from the given text
    assert any(f.excerpt.strip().startswith("FACE_RACE_YELLOW") for f in found)


def test_numbered_field_values():
    text = "nation: 1-汉族 2-维吾尔族 3-藏族 99-其他"
    found = detect(text)
    assert [f.category for f in found] == ["ethnicity"]
    assert found[0].rule == "ethnicity.coded-values"


def test_json_attribute():
    text = '{\n  "faceAttr": {\n    "age": 30,\n    "ethnicity": "uyghur",\n    "is_minority": 1\n  }\n}'
    found = detect(text)
    assert {f.category for f in found} == {"ethnicity"}
    check_offsets(text, found)


def test_enum_in_prose_form():
    text = "`PersonAttr.ethnicity` enum {UNKNOWN, HAN, UYGHUR, TIBETAN}"
    assert cats(text) == {"ethnicity"}


def test_alarm_dictionary():
    text = "报警类型字典：涉宗教类、邪教类、非访类、上访类。"
    found = detect(text)
    assert {f.category for f in found} == {"religion", "political"}
    assert any(f.rule.endswith("alarm-type") for f in found)


def test_list_items_inherit_lead_in():
    text = "告警类型：\n  01 邪教人员\n  02 上访人员\n"
    assert cats(text) == {"religion", "political"}


def test_one_finding_per_category_and_unit():
    text = "支持分析人员目标的民族属性（如维族、汉族）以及肤色属性（如白人、黄种人），准确率不低于90%。"
    found = detect(text)
    assert sorted(f.category for f in found) == ["ethnicity", "race"]
    assert len({f.excerpt for f in found}) == 1  # same unit, two claims


def test_two_units_two_findings_sorted():
    text = "第一款：人脸识别可判断是否维族。\n第二款：人脸属性可输出是否少数民族并推送告警。"
    found = detect(text)
    assert [f.category for f in found] == ["ethnicity", "ethnicity"]
    assert found[0].start < found[1].start
    assert found[0].excerpt != found[1].excerpt
    check_offsets(text, found)


def test_claim_survives_next_to_a_negative_sentence():
    text = "据报道，某竞争对手曾宣称可识别维族。我们的摄像机可实时识别维族人员并告警。"
    found = detect(text)
    assert len(found) == 1
    assert found[0].excerpt.startswith("我们的摄像机")


def test_denial_does_not_silence_later_claim_in_other_unit():
    text = "We do not sell to consumers. The server detects Uyghur faces and sends alerts."
    assert cats(text) == {"ethnicity"}


def test_finding_fields_and_record():
    text = "平台识别维族人员后推送告警。"
    (f,) = detect(text)
    assert isinstance(f, Finding)
    rec = f.to_record("doc.txt")
    assert list(rec) == ["document", "record_id", "category", "rule", "match", "start", "end", "excerpt",
                         "gloss", "score"]
    assert rec["category"] == "ethnicity" and rec["match"] == "维族人"  # the longest strong term


def test_offsets_with_astral_and_combining_characters():
    text = "😀👍🏽 e\u0301 \U00020000 说明：平台识别维族人员后推送告警。"
    found = detect(text)
    assert len(found) == 1
    check_offsets(text, found)


def test_excerpt_is_bounded_on_huge_lines():
    text = ("无关内容" * 20000) + "平台识别维族人员后推送告警" + ("无关内容" * 20000)
    found = detect(text)
    assert len(found) == 1
    assert len(found[0].excerpt) <= 1000
    check_offsets(text, found)


@pytest.mark.parametrize("category,text", [
    ("remote_biometric_id", "即時人臉識別系統部署於車站廣場，比對通緝名單並發出警示。"),
    ("race", "影像分析可判斷目標膚色（黃、白、黑）並分類。"),
    ("face_scraping", "演算法可從社群網路下載大頭照，建立人臉資料庫。"),
])
def test_taiwan_vocabulary(category, text):
    """Taiwan usage differs in words, not only characters (即時, 影像, 演算法, 社群)."""
    found = detect(text)
    assert category in {f.category for f in found}
    check_offsets(text, found)
