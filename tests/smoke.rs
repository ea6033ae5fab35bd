mod common;
use aerospike_core::{Bins, as_bin, policy::{ReadPolicy, WritePolicy}};

#[tokio::test]
async fn put_get() {
    for nodes in [1, 3] {
        let (_t, client) = common::cluster(nodes).await;
        assert_eq!(client.nodes().len(), nodes);
        let k = common::key(1);
        client.put(&WritePolicy::default(), &k, &[as_bin!("a", 1)]).await.unwrap();
        let r = client.get(&ReadPolicy::default(), &k, Bins::All).await.unwrap();
        println!("{r:?}");
    }
}
