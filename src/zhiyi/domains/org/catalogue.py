"""The group-wide department catalogue: a hierarchy with stable codes, Chinese and English names
and the aliases patients and staff use. Triage is trained for these codes; the demo seeds them
(with where each clinic department sits and how big it is, as `zhiyi.demo` builds its group).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- departments -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    code: str
    parent_code: str | None
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    # leaf (clinic) departments only: where they hold clinics, how big they are (1-3),
    # what their doctors do, and the share of women among their doctors
    campuses: tuple[str, ...] = ()
    weight: int = 1
    specialties: tuple[str, ...] = ()
    female_share: float = 0.45
    is_clinical: bool = True


ALL3 = ("MAIN", "EAST", "SOUTH")
M = ("MAIN",)
ME = ("MAIN", "EAST")
MS = ("MAIN", "SOUTH")


def _d(
    code: str,
    parent: str | None,
    zh: str,
    en: str,
    aliases: str,
    campuses: tuple[str, ...] = (),
    weight: int = 1,
    specialties: str = "",
    female_share: float = 0.45,
) -> DepartmentSpec:
    return DepartmentSpec(
        code=code,
        parent_code=parent,
        name_zh=zh,
        name_en=en,
        aliases=tuple(a.strip() for a in aliases.split("|") if a.strip()),
        campuses=campuses,
        weight=weight,
        specialties=tuple(s.strip() for s in specialties.split("|") if s.strip()),
        female_share=female_share,
    )


# Parents come before their children. The 16 top-level groups are exactly the
# clinical groups of the catalogue; leaves (departments without children) hold clinics.
DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _d(
        "GP",
        None,
        "全科医学科",
        "General Practice",
        "全科|全科门诊|家庭医学科|Family Medicine|GP",
        ALL3,
        2,
        "chronic disease management|multimorbidity|preventive care|health check-up follow-up",
    ),
    _d("IM", None, "内科", "Internal Medicine", "大内科|内科门诊|Medicine|IM"),
    _d(
        "IM.CARD",
        "IM",
        "心血管内科",
        "Cardiology",
        "心内科|心脏内科|心血管科|Cardiac Medicine|Heart Clinic",
        ALL3,
        3,
        "hypertension|coronary heart disease|arrhythmia|heart failure|interventional cardiology"
        "|lipid disorders",
    ),
    _d(
        "IM.RESP",
        "IM",
        "呼吸内科",
        "Respiratory Medicine",
        "呼吸科|呼吸与危重症医学科|肺科|Pulmonology|Chest Medicine",
        ALL3,
        2,
        "asthma|COPD|lung nodules|pneumonia|sleep apnea|interstitial lung disease",
    ),
    _d(
        "IM.GAST",
        "IM",
        "消化内科",
        "Gastroenterology",
        "消化科|胃肠内科|胃病门诊|GI|Digestive Medicine",
        ALL3,
        2,
        "endoscopy|gastritis|inflammatory bowel disease|GI bleeding|pancreatitis",
    ),
    _d(
        "IM.HEP",
        "IM",
        "肝病科",
        "Hepatology",
        "肝病门诊|肝脏内科|Liver Clinic|Liver Disease",
        M,
        1,
        "hepatitis B|fatty liver disease|cirrhosis|liver cancer screening",
    ),
    _d(
        "IM.NEUR",
        "IM",
        "神经内科",
        "Neurology",
        "神内|神经科|Neurology Clinic|Brain and Nerve",
        ME,
        2,
        "stroke|epilepsy|headache|Parkinson's disease|dementia|peripheral neuropathy",
    ),
    _d(
        "IM.ENDO",
        "IM",
        "内分泌科",
        "Endocrinology",
        "内分泌代谢科|糖尿病门诊|Diabetes Clinic|Metabolism",
        ALL3,
        2,
        "diabetes|thyroid disease|osteoporosis|obesity|adrenal disorders",
    ),
    _d(
        "IM.NEPH",
        "IM",
        "肾内科",
        "Nephrology",
        "肾脏内科|肾病科|Kidney Clinic|Renal Medicine",
        M,
        1,
        "chronic kidney disease|dialysis|glomerulonephritis|kidney stones",
    ),
    _d(
        "IM.HEME",
        "IM",
        "血液科",
        "Hematology",
        "血液内科|血液病科|Haematology|Blood Diseases",
        M,
        1,
        "anemia|leukemia|lymphoma|thrombocytopenia",
    ),
    _d(
        "IM.RHEU",
        "IM",
        "风湿免疫科",
        "Rheumatology",
        "风湿科|免疫科|Rheumatology and Immunology|Arthritis Clinic",
        M,
        1,
        "rheumatoid arthritis|lupus|gout|ankylosing spondylitis",
        0.55,
    ),
    _d("SURG", None, "外科", "Surgery", "大外科|外科门诊|Surgical Department"),
    _d(
        "SURG.GEN",
        "SURG",
        "普外科",
        "General Surgery",
        "普通外科|胃肠外科|肝胆外科|GI Surgery|Hepatobiliary Surgery",
        ALL3,
        3,
        "hernia|gallstones|thyroid surgery|colorectal surgery|laparoscopic surgery|appendicitis",
        0.2,
    ),
    _d(
        "SURG.ORTH",
        "SURG",
        "骨科",
        "Orthopedics",
        "骨外科|创伤骨科|脊柱外科|关节外科|Orthopaedics|Bone and Joint|Sports Medicine",
        ALL3,
        3,
        "joint replacement|spine surgery|sports injuries|fractures|osteoarthritis",
        0.15,
    ),
    _d(
        "SURG.URO",
        "SURG",
        "泌尿外科",
        "Urology",
        "泌尿科|Urological Surgery|Prostate Clinic",
        ME,
        2,
        "kidney stones|prostate disease|urologic oncology|urinary incontinence",
        0.15,
    ),
    _d(
        "SURG.NEURO",
        "SURG",
        "神经外科",
        "Neurosurgery",
        "脑外科|神外|Brain Surgery",
        M,
        1,
        "brain tumors|cerebrovascular surgery|spinal cord surgery|head trauma",
        0.15,
    ),
    _d(
        "SURG.THOR",
        "SURG",
        "胸外科",
        "Thoracic Surgery",
        "心胸外科|肺外科|Chest Surgery",
        M,
        1,
        "lung cancer surgery|esophageal surgery|mediastinal tumors|VATS",
        0.2,
    ),
    _d(
        "SURG.BRST",
        "SURG",
        "乳腺外科",
        "Breast Surgery",
        "乳腺科|乳房外科|Breast Clinic",
        ME,
        1,
        "breast cancer|breast nodules|mastitis",
        0.6,
    ),
    _d("PED", None, "儿科", "Pediatrics", "小儿科|儿童医学科|Paediatrics|Children's Clinic"),
    _d(
        "PED.GEN",
        "PED",
        "儿内科",
        "General Pediatrics",
        "小儿内科|儿科门诊|Pediatric Medicine|Kids Clinic",
        ALL3,
        2,
        "childhood fever|growth and development|pediatric digestion|vaccination advice",
        0.65,
    ),
    _d(
        "PED.RESP",
        "PED",
        "小儿呼吸科",
        "Pediatric Respiratory",
        "儿童呼吸科|儿科呼吸|Pediatric Pulmonology|Childhood Asthma",
        ME,
        1,
        "childhood asthma|bronchiolitis|chronic cough|pneumonia",
        0.6,
    ),
    _d(
        "PED.SURG",
        "PED",
        "小儿外科",
        "Pediatric Surgery",
        "儿外科|儿童外科|Children's Surgery",
        M,
        1,
        "inguinal hernia|hypospadias|pediatric trauma",
        0.3,
    ),
    _d("OBGYN", None, "妇产科", "Obstetrics and Gynecology", "妇产|OB/GYN|OBGYN|Women's Health"),
    _d(
        "OBGYN.GYN",
        "OBGYN",
        "妇科",
        "Gynecology",
        "妇科门诊|妇女保健|Gynaecology|Women's Clinic",
        ALL3,
        2,
        "uterine fibroids|cervical screening|menstrual disorders|menopause|endometriosis",
        0.9,
    ),
    _d(
        "OBGYN.OBS",
        "OBGYN",
        "产科",
        "Obstetrics",
        "产科门诊|孕产科|产检|Prenatal Care|Maternity",
        ME,
        2,
        "prenatal care|high-risk pregnancy|gestational diabetes|postpartum care",
        0.9,
    ),
    _d(
        "OBGYN.REPRO",
        "OBGYN",
        "生殖医学科",
        "Reproductive Medicine",
        "生殖中心|不孕不育|辅助生殖|Fertility Clinic|IVF",
        M,
        1,
        "infertility|IVF|recurrent miscarriage|PCOS",
        0.7,
    ),
    _d(
        "ANDRO",
        None,
        "男科",
        "Andrology",
        "男性科|男性健康|Men's Health|Male Infertility",
        M,
        1,
        "male infertility|erectile dysfunction|prostatitis",
        0.05,
    ),
    _d("ONC", None, "肿瘤科", "Oncology", "肿瘤中心|癌症|Cancer Center|Cancer"),
    _d(
        "ONC.MED",
        "ONC",
        "肿瘤内科",
        "Medical Oncology",
        "化疗科|肿瘤内科门诊|Chemotherapy|Cancer Medicine",
        ME,
        2,
        "chemotherapy|targeted therapy|immunotherapy|lung cancer|gastrointestinal cancer",
    ),
    _d(
        "ONC.RAD",
        "ONC",
        "放疗科",
        "Radiation Oncology",
        "放射治疗科|放疗|Radiotherapy",
        M,
        1,
        "radiotherapy|nasopharyngeal carcinoma|palliative radiotherapy",
    ),
    _d(
        "DERM",
        None,
        "皮肤性病科",
        "Dermatology",
        "皮肤科|性病科|皮肤美容|Skin Clinic|Dermatology and Venereology",
        ALL3,
        2,
        "eczema|acne|psoriasis|urticaria|STIs|cosmetic dermatology",
        0.6,
    ),
    _d(
        "OPH",
        None,
        "眼科",
        "Ophthalmology",
        "眼科门诊|眼病|Eye Clinic|Eye",
        ME,
        2,
        "cataract|glaucoma|myopia|retinal disease|dry eye",
        0.5,
    ),
    _d(
        "ENT",
        None,
        "耳鼻咽喉科",
        "Otorhinolaryngology",
        "耳鼻喉科|耳鼻咽喉头颈外科|五官科|ENT|Ear Nose and Throat",
        ME,
        2,
        "sinusitis|hearing loss|tonsillitis|vertigo|allergic rhinitis",
    ),
    _d(
        "STOM",
        None,
        "口腔科",
        "Stomatology",
        "牙科|口腔医学科|看牙|Dental Clinic|Dentistry",
        ALL3,
        2,
        "dental caries|root canal treatment|orthodontics|periodontics|dental implants|tooth extraction",
        0.55,
    ),
    _d(
        "PSY",
        None,
        "精神心理科",
        "Psychiatry",
        "精神科|心理科|心理咨询|医学心理科|Mental Health|Psychology Clinic",
        M,
        1,
        "depression|anxiety|insomnia|bipolar disorder",
        0.55,
    ),
    _d(
        "INF",
        None,
        "感染科",
        "Infectious Diseases",
        "传染科|感染性疾病科|发热门诊|Fever Clinic|Infectious Disease Clinic",
        ME,
        1,
        "fever of unknown origin|HIV|tuberculosis|influenza",
    ),
    _d(
        "EM",
        None,
        "急诊科",
        "Emergency",
        "急诊|急诊医学科|急救|ER|A&E|Emergency Department",
        ALL3,
        2,
        "trauma|chest pain|resuscitation|poisoning",
        0.35,
    ),
    _d(
        "REHAB",
        None,
        "康复医学科",
        "Rehabilitation",
        "康复科|理疗科|Physical Therapy|Physiotherapy|Rehab",
        MS,
        1,
        "stroke rehabilitation|sports rehabilitation|pain management|physiotherapy",
    ),
    _d(
        "TCM",
        None,
        "中医科",
        "Traditional Chinese Medicine",
        "中医|中医门诊|中西医结合科|TCM|Chinese Medicine",
    ),
    _d(
        "TCM.IM",
        "TCM",
        "中医内科",
        "TCM Internal Medicine",
        "中医内科门诊|中医调理|脾胃病|Herbal Medicine",
        ALL3,
        1,
        "herbal medicine|spleen and stomach disorders|insomnia|constitution regulation",
    ),
    _d(
        "TCM.ACU",
        "TCM",
        "针灸推拿科",
        "Acupuncture and Tuina",
        "针灸科|推拿科|针灸|Acupuncture|Massage Therapy",
        MS,
        1,
        "acupuncture|tuina massage|cervical spondylosis|lumbar pain",
    ),
)

# Non-clinical departments (is_clinical=False), kept apart so the clinical catalogue has
# exactly the groups above. Pharmacists belong here.
PHARMACY = "PHARM"
SUPPORT_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        code=PHARMACY,
        parent_code=None,
        name_zh="药学部",
        name_en="Pharmacy",
        aliases=("药剂科", "药房", "取药", "Pharmacy Department", "Dispensary"),
        is_clinical=False,
    ),
)

ALL_DEPARTMENTS: tuple[DepartmentSpec, ...] = DEPARTMENTS + SUPPORT_DEPARTMENTS


def leaf_departments() -> list[DepartmentSpec]:
    """Clinic departments: clinical catalogue entries that have no children."""
    parents = {d.parent_code for d in DEPARTMENTS if d.parent_code}
    return [d for d in DEPARTMENTS if d.code not in parents]
