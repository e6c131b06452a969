"""Pure demo data for the fictional Zhiyi Demo Hospital Group (智医示范医院集团).

No database here: campuses, the department catalogue, name pools with pinyin and
region codes. `zhiyi.demo.seed` turns them into rows with a seeded random generator.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_NAME_ZH = "智医示范医院集团"
GROUP_NAME_EN = "Zhiyi Demo Hospital Group"


# --- campuses --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildingSpec:
    code: str
    name_zh: str
    name_en: str
    floors: int  # above ground, numbered 1..floors
    basements: int = 0  # numbered -1..-basements
    clinic: bool = False  # outpatient clinics (and their consulting rooms) are here


@dataclass(frozen=True, slots=True)
class CampusSpec:
    code: str
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    is_main: bool
    buildings: tuple[BuildingSpec, ...]
    patient_share: int  # relative weight of patients registered here


CAMPUSES: tuple[CampusSpec, ...] = (
    CampusSpec(
        code="MAIN",
        name_zh="智医示范医院集团总院",
        name_en="Zhiyi Demo Hospital Group Main Campus",
        address_zh="上海市徐汇区示范路100号",
        address_en="100 Shifan Road, Xuhui District, Shanghai",
        is_main=True,
        patient_share=55,
        buildings=(
            BuildingSpec("A", "门诊楼", "Outpatient Building", floors=8, basements=1, clinic=True),
            BuildingSpec("B", "医技楼", "Medical Technology Building", floors=6, basements=1),
            BuildingSpec("C", "住院楼", "Inpatient Building", floors=12, basements=2),
        ),
    ),
    CampusSpec(
        code="EAST",
        name_zh="智医示范医院集团东院",
        name_en="Zhiyi Demo Hospital Group East Campus",
        address_zh="上海市浦东新区智慧路88号",
        address_en="88 Zhihui Road, Pudong New Area, Shanghai",
        is_main=False,
        patient_share=28,
        buildings=(
            BuildingSpec(
                "A", "门急诊楼", "Outpatient and Emergency Building", floors=6, basements=1, clinic=True
            ),
            BuildingSpec("B", "住院楼", "Inpatient Building", floors=10, basements=1),
        ),
    ),
    CampusSpec(
        code="SOUTH",
        name_zh="智医示范医院集团南院",
        name_en="Zhiyi Demo Hospital Group South Campus",
        address_zh="上海市闵行区康宁路66号",
        address_en="66 Kangning Road, Minhang District, Shanghai",
        is_main=False,
        patient_share=17,
        buildings=(
            BuildingSpec("A", "门诊楼", "Outpatient Building", floors=5, clinic=True),
            BuildingSpec("B", "综合楼", "General Building", floors=8, basements=1),
            BuildingSpec("C", "康复楼", "Rehabilitation Building", floors=4),
        ),
    ),
)

MAIN_CAMPUS = "MAIN"


# --- departments: the group-wide catalogue (zhiyi.domains.org.catalogue) ---------------------

from zhiyi.domains.org.catalogue import (  # noqa: E402,F401  (the demo seeds this catalogue)
    ALL3,
    ALL_DEPARTMENTS,
    DEPARTMENTS,
    PHARMACY,
    SUPPORT_DEPARTMENTS,
    DepartmentSpec,
    leaf_departments,
)

NURSE_SPECIALTIES = (
    "triage",
    "wound care",
    "diabetes education",
    "IV therapy",
    "geriatric care",
    "pediatric nursing",
    "maternal care",
    "infection control",
    "stoma care",
    "health education",
)
PHARMACIST_SPECIALTIES = (
    "clinical pharmacy",
    "anticoagulation",
    "antimicrobial stewardship",
    "TCM pharmacy",
    "pediatric dosing",
    "oncology pharmacy",
    "medication review",
)


# --- names -------------------------------------------------------------------------------------


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """'王:Wang:71 李:Li:70' or '秀:xiu 英:ying' -> tuples."""
    return tuple(tuple(item.split(":")) for item in text.split())  # type: ignore[misc]


# (surname, pinyin, weight per mille, roughly national frequency with a Shanghai tilt)
SURNAMES: tuple[tuple[str, str, int], ...] = tuple(
    (zh, py, int(w))
    for zh, py, w in _pairs(
        "王:Wang:71 李:Li:70 张:Zhang:67 刘:Liu:51 陈:Chen:46 杨:Yang:32 黄:Huang:24 赵:Zhao:20 "
        "吴:Wu:20 周:Zhou:19 徐:Xu:18 孙:Sun:14 马:Ma:13 朱:Zhu:15 胡:Hu:12 郭:Guo:11 何:He:11 "
        "林:Lin:10 高:Gao:10 罗:Luo:9 郑:Zheng:9 梁:Liang:8 谢:Xie:8 宋:Song:7 唐:Tang:7 许:Xu:7 "
        "韩:Han:7 邓:Deng:6 冯:Feng:6 曹:Cao:6 彭:Peng:6 曾:Zeng:6 肖:Xiao:6 田:Tian:5 董:Dong:5 "
        "潘:Pan:6 袁:Yuan:5 蔡:Cai:5 蒋:Jiang:6 余:Yu:5 于:Yu:5 杜:Du:5 叶:Ye:5 程:Cheng:5 "
        "魏:Wei:4 苏:Su:4 吕:Lyu:4 丁:Ding:4 任:Ren:4 沈:Shen:6 姚:Yao:4 卢:Lu:4 钟:Zhong:4 "
        "姜:Jiang:4 崔:Cui:3 陆:Lu:5 顾:Gu:5 钱:Qian:4 范:Fan:3 汪:Wang:4 金:Jin:4 戴:Dai:3 "
        "严:Yan:3 欧阳:Ouyang:1"
    )
)

# Given-name characters by sex and generation (born before 1965, 1965-1994, from 1995).
GIVEN = {
    ("M", "elder"): _pairs(
        "建:jian 国:guo 华:hua 明:ming 德:de 福:fu 荣:rong 林:lin 根:gen 宝:bao 发:fa 忠:zhong "
        "平:ping 生:sheng 海:hai 兴:xing 祥:xiang 伟:wei 强:qiang 军:jun 民:min 文:wen 志:zhi "
        "庆:qing 金:jin 永:yong 富:fu 良:liang 春:chun 东:dong"
    ),
    ("F", "elder"): _pairs(
        "秀:xiu 英:ying 桂:gui 兰:lan 凤:feng 珍:zhen 芳:fang 玉:yu 梅:mei 美:mei 华:hua 琴:qin "
        "素:su 淑:shu 云:yun 菊:ju 莲:lian 娣:di 萍:ping 红:hong 霞:xia 丽:li 金:jin 月:yue "
        "惠:hui 宝:bao 妹:mei"
    ),
    ("M", "middle"): _pairs(
        "伟:wei 强:qiang 磊:lei 军:jun 勇:yong 杰:jie 涛:tao 斌:bin 超:chao 明:ming 刚:gang "
        "平:ping 辉:hui 鹏:peng 华:hua 飞:fei 鑫:xin 波:bo 健:jian 俊:jun 峰:feng 亮:liang "
        "宁:ning 晨:chen 浩:hao 凯:kai 东:dong 海:hai 志:zhi 建:jian 文:wen 晓:xiao 振:zhen "
        "永:yong 新:xin 立:li 家:jia"
    ),
    ("F", "middle"): _pairs(
        "静:jing 丽:li 敏:min 艳:yan 娟:juan 芳:fang 燕:yan 玲:ling 婷:ting 颖:ying 洁:jie "
        "琳:lin 慧:hui 倩:qian 雪:xue 莉:li 红:hong 霞:xia 萍:ping 晓:xiao 佳:jia 丹:dan "
        "蕾:lei 薇:wei 雯:wen 琴:qin 英:ying 华:hua 娜:na 露:lu 梅:mei 春:chun"
    ),
    ("M", "young"): _pairs(
        "子:zi 轩:xuan 浩:hao 宇:yu 睿:rui 泽:ze 博:bo 文:wen 俊:jun 杰:jie 然:ran 一:yi "
        "梓:zi 皓:hao 晨:chen 辰:chen 铭:ming 阳:yang 航:hang 宸:chen 煜:yu 涵:han 诚:cheng "
        "奕:yi 豪:hao 翔:xiang 天:tian 昊:hao 旭:xu 嘉:jia 乐:le 安:an"
    ),
    ("F", "young"): _pairs(
        "梓:zi 涵:han 欣:xin 怡:yi 诗:shi 雨:yu 梦:meng 思:si 琪:qi 萱:xuan 妍:yan 可:ke "
        "馨:xin 晴:qing 紫:zi 悦:yue 彤:tong 语:yu 嘉:jia 佳:jia 一:yi 若:ruo 依:yi 诺:nuo "
        "雅:ya 静:jing 婉:wan 心:xin 宁:ning 安:an 钰:yu 瑶:yao"
    ),
}


def generation(birth_year: int) -> str:
    return "elder" if birth_year < 1965 else "middle" if birth_year < 1995 else "young"


# --- places ------------------------------------------------------------------------------------

# 6-digit administrative codes as they appear in resident ID numbers (place of first
# registration), with a weight. Mostly Shanghai, then Jiangsu, Zhejiang and Anhui. A few
# Shanghai codes are historical (卢湾, 闸北, 崇明县): older people still carry them.
REGIONS: tuple[tuple[str, str, int], ...] = tuple(
    (code, name, int(w))
    for code, name, w in _pairs(
        "310101:上海市黄浦区:4 310104:上海市徐汇区:6 310105:上海市长宁区:4 310106:上海市静安区:5 "
        "310107:上海市普陀区:5 310109:上海市虹口区:4 310110:上海市杨浦区:6 310112:上海市闵行区:7 "
        "310113:上海市宝山区:5 310114:上海市嘉定区:3 310115:上海市浦东新区:12 310116:上海市金山区:2 "
        "310117:上海市松江区:3 310118:上海市青浦区:2 310120:上海市奉贤区:2 310151:上海市崇明区:1 "
        "310103:上海市卢湾区:1 310108:上海市闸北区:1 310230:上海市崇明县:1 "
        "320102:江苏省南京市玄武区:1 320104:江苏省南京市秦淮区:1 320211:江苏省无锡市滨湖区:1 "
        "320311:江苏省徐州市泉山区:1 320402:江苏省常州市天宁区:1 320506:江苏省苏州市吴中区:2 "
        "320508:江苏省苏州市姑苏区:1 320583:江苏省昆山市:2 320602:江苏省南通市崇川区:1 "
        "321002:江苏省扬州市广陵区:1 "
        "330102:浙江省杭州市上城区:1 330106:浙江省杭州市西湖区:1 330203:浙江省宁波市海曙区:1 "
        "330281:浙江省余姚市:1 330302:浙江省温州市鹿城区:1 330402:浙江省嘉兴市南湖区:2 "
        "330421:浙江省嘉善县:1 330502:浙江省湖州市吴兴区:1 330602:浙江省绍兴市越城区:1 "
        "330702:浙江省金华市婺城区:1 331002:浙江省台州市椒江区:1 "
        "340102:安徽省合肥市瑶海区:1 340104:安徽省合肥市蜀山区:2 340202:安徽省芜湖市镜湖区:1 "
        "340302:安徽省蚌埠市龙子湖区:1 340403:安徽省淮南市田家庵区:1 341002:安徽省黄山市屯溪区:1 "
        "341202:安徽省阜阳市颍州区:1 341302:安徽省宿州市埇桥区:1 341502:安徽省六安市金安区:1 "
        "341602:安徽省亳州市谯城区:1 "
        "350102:福建省福州市鼓楼区:1 360102:江西省南昌市东湖区:1 370102:山东省济南市历下区:1 "
        "410102:河南省郑州市中原区:1 420102:湖北省武汉市江岸区:1 430102:湖南省长沙市芙蓉区:1 "
        "510104:四川省成都市锦江区:1"
    )
)

# Current Shanghai districts (weight) and a few real road names in each, for home addresses.
SHANGHAI_STREETS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("黄浦区", 3, ("南京东路", "淮海中路", "西藏南路")),
    ("徐汇区", 6, ("漕溪北路", "肇嘉浜路", "天钥桥路", "宜山路")),
    ("长宁区", 4, ("天山路", "延安西路", "仙霞路")),
    ("静安区", 5, ("南京西路", "共和新路", "延长路")),
    ("普陀区", 5, ("曹杨路", "长寿路", "真北路")),
    ("虹口区", 4, ("四川北路", "曲阳路", "大连西路")),
    ("杨浦区", 6, ("四平路", "控江路", "国定路")),
    ("闵行区", 9, ("莘松路", "七莘路", "都市路", "虹梅南路")),
    ("宝山区", 6, ("友谊路", "牡丹江路", "共康路")),
    ("嘉定区", 4, ("城中路", "博乐路")),
    ("浦东新区", 14, ("张杨路", "世纪大道", "锦绣路", "川沙路", "东方路")),
    ("松江区", 4, ("中山中路", "人民北路")),
    ("青浦区", 2, ("城中东路", "公园路")),
    ("奉贤区", 2, ("南桥路", "解放东路")),
    ("金山区", 1, ("卫零路",)),
    ("崇明区", 1, ("八一路",)),
)
GENERIC_STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "健康路")

# Second digit of Chinese mobile numbers 1[3-9]x..., weighted roughly by how common they are.
MOBILE_SECOND_DIGIT: tuple[tuple[str, int], ...] = (
    ("3", 30),
    ("5", 22),
    ("8", 25),
    ("7", 6),
    ("9", 12),
    ("6", 2),
    ("4", 3),
)

# Patient ages: (youngest, oldest, weight); a hospital sees many elderly people.
AGE_BANDS: tuple[tuple[int, int, int], ...] = (
    (0, 6, 7),
    (7, 17, 7),
    (18, 29, 9),
    (30, 44, 16),
    (45, 59, 20),
    (60, 74, 25),
    (75, 95, 16),
)

# Insurance for adults; minors are almost all on resident insurance. Overall this comes to
# about 55% urban_employee, 30% urban_rural_resident, 5% commercial, 10% self_pay.
ADULT_INSURANCE: tuple[tuple[str, int], ...] = (
    ("urban_employee", 64),
    ("urban_rural_resident", 21),
    ("commercial", 5),
    ("self_pay", 10),
)
MINOR_INSURANCE: tuple[tuple[str, int], ...] = (
    ("urban_rural_resident", 85),
    ("commercial", 5),
    ("self_pay", 10),
)

# Doctors' titles: outpatient clinics are mostly run by attendings and above.
DOCTOR_TITLES: tuple[tuple[str, int], ...] = (
    ("resident", 20),
    ("attending", 38),
    ("associate_chief", 25),
    ("chief", 17),
)
# Nurses and pharmacists use the same four grades (护士/护师/主管护师/副主任护师/主任护师 and
# 药士/药师/主管药师/副主任药师/主任药师 map onto junior..senior); display maps by profession.
STAFF_TITLES: tuple[tuple[str, int], ...] = (
    ("resident", 35),
    ("attending", 40),
    ("associate_chief", 18),
    ("chief", 7),
)


@dataclass(frozen=True, slots=True)
class StaffPlan:
    doctors: int = 100
    nurses: int = 14
    pharmacists: int = 6


STAFF = StaffPlan()
