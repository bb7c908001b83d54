"""bench.prom: Prometheus text -> samples, and the deltas the bench reports."""
from bench import prom

BEFORE = """# HELP adloom_batch_size Items per model call, by stage.
# TYPE adloom_batch_size histogram
adloom_batch_size_bucket{le="1.0",stage="generate"} 2.0
adloom_batch_size_count{stage="generate"} 2.0
adloom_batch_size_sum{stage="generate"} 2.0
adloom_batch_size_count{stage="encode"} 1.0
adloom_batch_size_sum{stage="encode"} 3.0
adloom_embedding_cache_total{result="hit"} 4.0
adloom_model_info{device="cpu",generator="adloom-base@ab",text_encoder="all-MiniLM-L6-v2@53aa5117"} 1.0
"""
AFTER = BEFORE.replace('adloom_batch_size_count{stage="generate"} 2.0',
                       'adloom_batch_size_count{stage="generate"} 6.0') \
    .replace('adloom_batch_size_sum{stage="generate"} 2.0', 'adloom_batch_size_sum{stage="generate"} 14.0') \
    .replace('adloom_embedding_cache_total{result="hit"} 4.0', 'adloom_embedding_cache_total{result="hit"} 9.0\n'
             'adloom_embedding_cache_total{result="miss"} 2.0')


def test_parse_reads_labels_in_any_order_and_skips_comments():
    s = prom.parse(BEFORE)
    assert prom.value(s, "adloom_batch_size_bucket", stage="generate", le="1.0") == 2.0
    assert prom.value(s, "adloom_model_info", text_encoder="all-MiniLM-L6-v2@53aa5117", device="cpu",
                      generator="adloom-base@ab") == 1.0
    assert prom.value(s, "adloom_batch_size_count", stage="score") == 0.0  # absent = 0
    assert not any(name.startswith("#") for name, _ in s)


def test_mean_batch_sizes_are_sum_over_count_deltas():
    means = prom.mean_batch_sizes(prom.parse(BEFORE), prom.parse(AFTER))
    assert means == {"encode": None, "generate": 3.0, "score": None}  # (14-2)/(6-2); no new encode batches


def test_cache_counts_are_deltas():
    assert prom.cache_counts(prom.parse(BEFORE), prom.parse(AFTER)) == {"hit": 5.0, "miss": 2.0, "error": 0.0}
