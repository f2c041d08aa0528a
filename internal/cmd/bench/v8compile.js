// Times V8's compilation of wasm modules, as make bench's V8 table reports
// it (internal/cmd/bench/v8.go runs this file under node with TurboFan only,
// as Envoy's V8 runs). Arguments: the number of repetitions, then the
// module files. In each repetition every module is compiled once, in turn,
// with new WebAssembly.Module; the output is one JSON array per module of
// its times in milliseconds.
//
// V8 keeps compiled modules by their bytes and hands a second compilation
// of the same bytes the first one's code, so each compilation gets bytes of
// its own: the module with a small custom section appended, which V8
// ignores. The garbage collector runs before each compilation (node
// --expose-gc), so that no compilation pays for the ones before it.
'use strict';
const fs = require('fs');

const [reps, ...paths] = process.argv.slice(2);
const modules = paths.map((p) => fs.readFileSync(p));

// marked returns bytes with a custom section "bench" holding n (4 bytes):
// section id 0, size 10, name length 5, the name, the payload.
function marked(bytes, n) {
  const section = Buffer.from([0, 10, 5, 0x62, 0x65, 0x6e, 0x63, 0x68, 0, 0, 0, 0]);
  section.writeUInt32LE(n, 8);
  return Buffer.concat([bytes, section]);
}

const times = modules.map(() => []);
let n = 0;
for (let r = 0; r < Number(reps); r++) {
  modules.forEach((bytes, i) => {
    const input = marked(bytes, n++);
    global.gc();
    const start = process.hrtime.bigint();
    new WebAssembly.Module(input);
    times[i].push(Number(process.hrtime.bigint() - start) / 1e6);
  });
}
process.stdout.write(JSON.stringify(times) + '\n');
