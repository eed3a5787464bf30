"""The question list (filters, search, ranking) and the card page."""

import uuid

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db


def list_slugs(client, **params) -> list[str]:
    response = client.get(reverse("studyapp:question_list"), params)
    assert response.status_code == 200
    return [q.slug for q in response.context["questions"]]


def test_list_shows_every_published_question(client, bank):
    assert list_slugs(client) == ["prop-01", "prop-02", "prop-03"]


def test_two_character_chinese_words_are_found(client, bank):
    assert "prop-03" in list_slugs(client, q="梯度")
    assert list_slugs(client, q="插图") == ["prop-02"]


def test_search_is_case_insensitive_in_english_and_ranks_titles_first(client, bank):
    slugs = list_slugs(client, q="BACK-PROPAGATION")
    assert slugs[0] == "prop-03"  # the only title with the word
    assert set(slugs) >= {"prop-01", "prop-03"}


def test_search_highlights_matches(client, bank):
    response = client.get(reverse("studyapp:question_list"), {"q": "反向传播"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "<mark>反向传播</mark>" in response.content.decode()


def test_every_term_must_match(client, bank):
    assert list_slugs(client, q="sigmoid 3-4-2") == ["prop-02"]


def test_filters(client, bank):
    assert list_slugs(client, area="prop", difficulty=1) == ["prop-01", "prop-02"]
    assert list_slugs(client, tag="worked-example") == ["prop-03"]
    assert list_slugs(client, kind="conceptual") == []
    assert list_slugs(client, kind="numeric") == ["prop-01", "prop-02", "prop-03"]


def test_bad_filter_values_show_an_error_and_are_ignored(client, bank):
    response = client.get(reverse("studyapp:question_list"), {"importance": "9", "area": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"importance", "area"}
    assert len(response.context["questions"]) == 3


def test_list_query_count(client, bank, django_assert_max_num_queries, django_assert_num_queries):
    # the bank stamp, areas + tags for the filter form, the questions, their tags
    with django_assert_max_num_queries(5):
        client.get(reverse("studyapp:question_list"), {"q": "传播"})
    with django_assert_num_queries(0):  # the rendered list and the bank stamp are cached
        client.get(reverse("studyapp:question_list"), {"q": "传播"})


def test_card_shows_prompt_answer_worked_solution_and_errata(client, bank):
    response = client.get(reverse("studyapp:question_detail", args=["prop-03"]),
                          HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Back-propagation by hand" in html
    assert "0.0821670" in html  # dE/dw5 of the worked example
    assert "✔ Verified" in html
    assert "The source says 0.75136079; the correct value is 0.751365" in html
    assert "002_fc696528f3d45713.txt" in html
    assert 'rel="next"' not in html and 'rel="prev"' in html


def test_card_new_numbers_are_stable_on_reload(client, bank, settings):
    url = reverse("studyapp:question_detail", args=["prop-03"])
    first = client.get(url, {"variant": 5}).context["worked"][0]
    # an empty cache: no stored page or fragment, so the numbers come from the stored variant
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"reload-{uuid.uuid4().hex}"}}
    again = client.get(url, {"variant": 5}).context["worked"][0]
    canonical = client.get(url).context["worked"][0]
    assert first.variant.pk == again.variant.pk and first.asked == again.asked
    assert first.variant.params != canonical.variant.params


def test_anonymous_pages_are_served_from_the_cache_until_the_bank_changes(client, bank,
                                                                           django_assert_num_queries):
    url = reverse("studyapp:question_detail", args=["prop-03"])
    first = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content
    with django_assert_num_queries(0):  # the page and the bank stamp come from the cache
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").content == first
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content != first, "one copy per language"
    from studyapp.models import Question

    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").context is None, "served from the cache"
    question = Question.objects.get(slug="prop-03")
    question.importance = 3
    question.save()  # as every change to the bank does: the cached stamp is dropped
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").context is not None, "rendered afresh"
    client.force_login(User.objects.create_user("ada", password="pw-ada-12345"))
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").context is not None, "never for signed-in users"


def test_bank_stamp_is_cached_and_dropped_when_a_question_changes(bank, django_assert_num_queries,
                                                                 django_capture_on_commit_callbacks):
    from studyapp.models import Question
    from studyapp.selectors import bank_stamp

    stamp = bank_stamp()
    with django_assert_num_queries(0):
        assert bank_stamp() == stamp
    question = Question.objects.get(slug="prop-03")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        question.save()
    assert len(callbacks) == 1, "dropped again once the change commits"
    assert bank_stamp() != stamp
    draft = Question.objects.create(slug="new-01", area=question.area)  # a draft: no versions yet
    stamp = bank_stamp()
    draft.delete()
    assert bank_stamp() != stamp


def test_language_form_needs_no_token_and_keeps_the_page(client):
    r = client.get(reverse("studyapp:language"), {"language": "en", "next": "/questions/?q=x"})
    assert r.status_code == 302 and r["Location"] == "/questions/?q=x"
    assert r.cookies["django_language"].value == "en"
    assert client.get(reverse("studyapp:language"), {"language": "xx"}).status_code == 400
    r = client.get(reverse("studyapp:language"), {"language": "en", "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_card_query_count_is_bounded(client, bank, django_assert_max_num_queries):
    url = reverse("studyapp:question_detail", args=["prop-03"])
    client.get(url)  # stores the variants
    with django_assert_max_num_queries(9):
        client.get(url)


@pytest.mark.parametrize("variant", ["abc", "-1", "1.5", "99999999999"])
def test_bad_variant_is_a_400_with_a_reason(client, bank, variant):
    response = client.get(reverse("studyapp:question_detail", args=["prop-03"]), {"variant": variant})
    assert response.status_code == 400
    assert response.content.decode()


def test_unknown_question_is_404(client, bank):
    assert client.get(reverse("studyapp:question_detail", args=["nope-01"])).status_code == 404


def test_previous_next_follow_the_filter(client, bank):
    response = client.get(reverse("studyapp:question_detail", args=["prop-02"]), {"difficulty": 1})
    assert str(response.context["previous"]) == "prop-01" and not response.context["next"]


@pytest.mark.parametrize(("language", "words"), [("zh-hans", ["筛选", "道题", "全部领域"]),
                                                 ("en", ["Filter", "questions", "all areas"])])
def test_interface_follows_the_language(client, bank, language, words):
    html = client.get(reverse("studyapp:question_list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert all(word in html for word in words)


def test_card_content_follows_the_language(client, bank):
    url = reverse("studyapp:question_detail", args=["prop-03"])
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "用数值实例走一遍反向传播" in zh and "原文给出 0.75136079；正确值是 0.751365" in zh
    assert "Back-propagation by hand" in en and "用数值实例" not in en
