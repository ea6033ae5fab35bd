"""Drives the embedded server with the Python client, which is built on the C client.

The C client is stricter than the Rust one (info answers by position, 684-character
replica bitmaps, batch-index row echo); see the wire-protocol notes. Usage:
python3 tests/c_client.py HOST:PORT EXPECTED_NODES NAMESPACE SET KEYS [alternate]
("alternate" for nodes reached through their alternate addresses, as containers are).
"""
import sys

import aerospike
from aerospike_helpers.batch import records as br
from aerospike_helpers.operations import operations as op

host, port = sys.argv[1].rsplit(":", 1)
expected_nodes = int(sys.argv[2])
namespace, set_name, key_count = sys.argv[3], sys.argv[4], int(sys.argv[5])
alternate = sys.argv[6:] == ["alternate"]
client = aerospike.client(
    {"hosts": [(host, int(port))], "use_services_alternate": alternate}
).connect()
assert len(client.get_nodes()) == expected_nodes, client.get_nodes()

keys = [(namespace, set_name, i) for i in range(key_count)]
for i, key in enumerate(keys):
    client.put(key, {"v": i, "s": "x%d" % i})
_, meta, bins = client.get(keys[7])
assert bins == {"v": 7, "s": "x7"} and meta["gen"] == 1, (meta, bins)
assert client.exists((namespace, set_name, 1000))[1] is None
_, _, bins = client.operate(keys[7], [op.increment("v", 5), op.read("v")])
assert bins == {"v": 12}, bins

reads = client.batch_read(keys[:50] + [(namespace, set_name, 999)])
results = [r.result for r in reads.batch_records]
assert results == [0] * 50 + [2], results
assert [r.record[2]["v"] for r in reads.batch_records[:50] if r.key[2] != 7] == [i for i in range(50) if i != 7]

writes = client.batch_write(br.BatchRecords([br.Write(k, [op.write("w", 1)]) for k in keys[:30]]))
assert writes.result == 0 and {r.result for r in writes.batch_records} == {0}
client.remove(keys[7])
assert client.exists(keys[7])[1] is None
client.close()
print("c_client: ok against %d node(s)" % expected_nodes)
