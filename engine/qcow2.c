/*
 * The qcow2 layout model: how long a qcow2 file is, from its allocation
 * state alone (docs/CONFORMANCE.md, 4.12).
 *
 * A fresh image as QEMU 7.2's qcow2_co_create() lays it out (version 3,
 * 16-bit refcounts, no extensions): cluster 0 the header, cluster 1 the
 * refcount table, cluster 2 its first refcount block, cluster 3 on the L1
 * table of ceil(size / (cluster * cluster / 8)) 8-byte entries.  Only the
 * L1 entries are written, so a fresh file ends 3 clusters + 8 bytes per L1
 * entry in (196616 for 1 MiB at 64 KiB clusters).  Each later allocation
 * takes the next whole cluster at the end of the file: an L2 table (one
 * per cluster / 8 guest clusters, data or zero) and a data cluster per
 * allocated guest cluster that holds data (zero clusters have none).  The
 * L1 table then counts as its whole clusters.  Measured against
 * blockdev-create on qemu-storage-daemon 7.2 for cluster sizes 512, 4 KiB,
 * 64 KiB and 2 MiB, with and without metadata preallocation.
 *
 * The model stops where QEMU would allocate a second refcount block: a
 * refcount block covers cluster / 2 host clusters, and an image whose
 * fully allocated layout would need more is refused (eng_qcow2_max_size).
 */
#include "internal.h"

#define QCOW2_FIXED_CLUSTERS 3ull   /* header, refcount table, refcount block */
#define QCOW2_ENTRY_BYTES 8ull      /* an L1 or L2 entry */
#define QCOW2_REFCOUNT_BITS 16ull

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

bool eng_qcow2_cluster_valid(uint64_t cluster)
{
    return cluster >= ENG_QCOW2_MIN_CLUSTER && cluster <= ENG_QCOW2_MAX_CLUSTER &&
           (cluster & (cluster - 1)) == 0;
}

/* Guest clusters one L2 table maps. */
static uint64_t l2_entries(uint64_t cluster)
{
    return cluster / QCOW2_ENTRY_BYTES;
}

static uint64_t l1_entries(uint64_t size, uint64_t cluster)
{
    return div_up(div_up(size, cluster), l2_entries(cluster));
}

/* Host clusters of an image of `guest` guest clusters, all holding data. */
static uint64_t full_host_clusters(uint64_t guest, uint64_t cluster)
{
    uint64_t l1 = div_up(guest, l2_entries(cluster));

    return QCOW2_FIXED_CLUSTERS + div_up(l1 * QCOW2_ENTRY_BYTES, cluster) +
           div_up(guest, l2_entries(cluster)) + guest;
}

uint64_t eng_qcow2_max_size(uint64_t cluster)
{
    uint64_t refblock = cluster * 8 / QCOW2_REFCOUNT_BITS;
    uint64_t guest = refblock;

    /* a few steps: the metadata of a full refcount block is a few clusters */
    while (guest > 0 && full_host_clusters(guest, cluster) > refblock)
        guest--;
    return guest * cluster;
}

void eng_qcow2_format(eng_qcow2_t *q, uint64_t size, uint64_t cluster, bool metadata)
{
    q->formatted = true;
    q->size = size;
    q->cluster = cluster;
    q->alloc = 0;
    q->data = 0;
    if (metadata)
        eng_qcow2_allocate(q, size, true);
}

void eng_qcow2_allocate(eng_qcow2_t *q, uint64_t end, bool data)
{
    if (end > q->size)
        end = q->size;
    if (end <= q->alloc)
        return;
    uint64_t first = div_up(q->alloc, q->cluster), last = div_up(end, q->cluster);
    if (data)
        q->data += last - first;
    q->alloc = last * q->cluster < q->size ? last * q->cluster : q->size;
}

uint64_t eng_qcow2_file_length(const eng_qcow2_t *q)
{
    uint64_t l1 = l1_entries(q->size, q->cluster) * QCOW2_ENTRY_BYTES;
    uint64_t l2 = div_up(div_up(q->alloc, q->cluster), l2_entries(q->cluster));

    if (l2 == 0 && q->data == 0)
        return QCOW2_FIXED_CLUSTERS * q->cluster + l1;
    return (QCOW2_FIXED_CLUSTERS + div_up(l1, q->cluster) + l2 + q->data) * q->cluster;
}
