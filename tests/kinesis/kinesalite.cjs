// kinesalite on 127.0.0.1:<port> (its CLI binds every interface), streams ACTIVE at once.
"use strict";
const kinesalite = require("kinesalite");
const port = Number(process.argv[2]);
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
server.listen(port, "127.0.0.1", (error) => {
  if (error) throw error;
  console.log(`kinesalite listening on 127.0.0.1:${port}`);
});
