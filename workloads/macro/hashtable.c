/* kvs' kernel: an open-addressing hash table with linear probing (one 16-byte slot per
 * record, key 0 marks an empty slot), and the Zipf key generator. Values carry the low
 * half of their key, so every GET can check what it read and a lost or torn update
 * shows; SETs update values in place (8-byte stores: atomic, never torn). */
#include "macrolib.h"

void kv_clear(struct kv_table *t, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = lo; i < hi; i++)
        t->slot[i].key = 0, t->slot[i].val = 0;
}

int kv_insert(struct kv_table *t, uint64_t key, uint64_t val)
{
    uint64_t i = mac_mix64(key) & t->mask;
    for (uint64_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
        if (t->slot[i].key == 0 || t->slot[i].key == key) {
            t->slot[i].key = key;
            t->slot[i].val = val;
            return 0;
        }
    }
    return -1;
}

struct kv_slot *kv_find(const struct kv_table *t, uint64_t key)
{
    uint64_t i = mac_mix64(key) & t->mask;
    for (uint64_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
        uint64_t k = t->slot[i].key;
        if (k == key)
            return &t->slot[i];
        if (k == 0)
            return 0;
    }
    return 0;
}

uint64_t kv_verify(const struct kv_table *t, uint64_t nkeys)
{
    uint64_t bad = 0;
    for (uint64_t i = 0; i < nkeys; i++) {
        uint64_t key = kv_key(i);
        const struct kv_slot *s = kv_find(t, key);
        bad += !s || (s->val & 0xffffffffu) != (key & 0xffffffffu);
    }
    return bad;
}

double zipf_zeta(uint64_t n, double theta)
{
    double sum = 0;
    for (uint64_t i = 1; i <= n; i++)
        sum += mac_exp(-theta * mac_log((double)i));
    return sum;
}

void zipf_init(struct zipf *z, uint64_t n, double theta)
{
    z->n = n;
    z->theta = theta;
    z->alpha = 1.0 / (1.0 - theta);
    z->zetan = zipf_zeta(n, theta);
    double zeta2 = zipf_zeta(2, theta);
    z->eta = (1.0 - mac_pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
    z->half_pow_theta = mac_pow(0.5, theta);
}

uint64_t zipf_next(const struct zipf *z, uint64_t *rng)
{
    double u = mac_rng_unit(rng), uz = u * z->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < 1.0 + z->half_pow_theta)
        return 1;
    uint64_t r = (uint64_t)((double)z->n * mac_pow(z->eta * u - z->eta + 1.0, z->alpha));
    return r < z->n ? r : z->n - 1;
}
