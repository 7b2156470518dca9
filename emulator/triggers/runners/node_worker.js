// The worker process of a Node.js function: loads the handler once, then runs one
// invocation per request frame, the way Lambda's Node.js runtime does. The protocol is
// the Python worker's (emulator/triggers/runners/python_worker.py): length-prefixed
// JSON frames on stdin and on the result fd (argv[2]); stdout and stderr are the log,
// cut by a marker line after each phase. Run as `node node_worker.js FD HANDLER` in
// the function's task root.
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const MARKER = '\x1e\x1eemulator-log-mark:';
const resultFd = Number(process.argv[2]);
const handlerString = process.argv[3] || '';
const taskRoot = process.cwd();
let currentRequestId;

function writeFrame(message) {
  const body = Buffer.from(JSON.stringify(message));
  const data = Buffer.alloc(4 + body.length);
  data.writeUInt32BE(body.length, 0);
  body.copy(data, 4);
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(resultFd, data, offset);
}

function mark(seq) {
  try {
    process.stdout.write(MARKER + seq + '\n');
  } catch (error) {
    // the function closed its stdout: the parent takes what it has
  }
}

// console.* as the runtime formats it: timestamp, request id, level, message.
function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG' };
  for (const [name, level] of Object.entries(levels)) {
    console[name] = (...args) => {
      process.stdout.write(
        `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`
      );
    };
  }
  console.trace = (...args) => {
    const stack = new Error().stack.split('\n').slice(2).join('\n');
    process.stdout.write(
      `${new Date().toISOString()}\t${currentRequestId}\tTRACE\t${util.format(...args)}\n${stack}\n`
    );
  };
}

class Fault extends Error {
  constructor(errorType, message, trace) {
    super(message);
    this.errorType = errorType;
    this.trace = trace || [];
  }
}

// The stack as lines, down to the handler's caller (this file's frames are left out).
function stackLines(error) {
  const lines = String(error.stack || '').split('\n');
  const ours = lines.findIndex((line) => line.includes(__filename));
  return ours > 0 ? lines.slice(0, ours) : lines;
}

function errorDocument(error) {
  if (error instanceof Fault) {
    return { errorType: error.errorType, errorMessage: error.message, trace: error.trace };
  }
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, trace: stackLines(error) };
  }
  let message;
  try {
    message = typeof error === 'string' ? error : JSON.stringify(error);
  } catch (ignored) {
    message = String(error);
  }
  return { errorType: typeof error, errorMessage: message, trace: [] };
}

function logError(document) {
  const logged = {
    errorType: document.errorType,
    errorMessage: document.errorMessage,
    stack: document.trace,
  };
  process.stdout.write(
    `${new Date().toISOString()}\t${currentRequestId}\tERROR\tInvoke Error \t${JSON.stringify(logged)}\n`
  );
}

async function loadModule(file) {
  try {
    return require(file);
  } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw error;
  }
}

// The handler, or a Fault to report on every invocation (bad name, missing module or
// function). Any other error while loading the module is an init error.
async function loadHandler() {
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match || !match[1] || !match[2]) {
    return new Fault('Runtime.MalformedHandlerName', 'Bad handler');
  }
  const [, modulePath, handlerPath] = match;
  const base = path.resolve(taskRoot, modulePath);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) {
    return new Fault(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${__filename}`
    );
  }
  let loaded;
  try {
    loaded = await loadModule(file);
  } catch (error) {
    if (error instanceof SyntaxError) {
      return new Fault('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`,
        stackLines(error));
    }
    if (error && (error.code === 'MODULE_NOT_FOUND' || error.code === 'ERR_MODULE_NOT_FOUND')) {
      return new Fault('Runtime.ImportModuleError', `${error.name}: ${error.message}`,
        stackLines(error));
    }
    throw error;
  }
  const find = (root) => handlerPath.split('.').reduce((value, key) => (value == null ? undefined : value[key]), root);
  let handler = find(loaded);
  if (handler === undefined && loaded && loaded.default) handler = find(loaded.default);
  if (handler === undefined) {
    return new Fault('Runtime.HandlerNotFound', `${modulePath}.${handlerPath} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    return new Fault('Runtime.HandlerNotFound', `${modulePath}.${handlerPath} is not a function`);
  }
  return handler;
}

function makeContext(request, settle) {
  const env = process.env;
  let clientContext;
  if (request.client_context) {
    try {
      clientContext = JSON.parse(Buffer.from(request.client_context, 'base64').toString());
    } catch (ignored) {
      try {
        clientContext = JSON.parse(request.client_context);
      } catch (alsoIgnored) {
        clientContext = undefined;
      }
    }
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: request.function_arn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: request.request_id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext,
    getRemainingTimeInMillis: () => Math.max(0, Math.floor(request.deadline_ms - Date.now())),
    done: (error, result) => settle(error, result),
    succeed: (result) => settle(null, result),
    fail: (error) => settle(error == null ? 'handled' : error),
  };
}

async function invoke(handler, request) {
  if (handler instanceof Fault) throw handler;
  const event = JSON.parse(request.payload);
  const result = await new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, value) => {
      if (settled) return;
      settled = true;
      if (error != null) reject(error);
      else resolve(value);
    };
    const context = makeContext(request, settle);
    let returned;
    try {
      returned = handler(event, context, settle);
    } catch (error) {
      settle(error);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then((value) => settle(null, value), (error) => settle(error == null ? new Error('undefined') : error));
    } else if (handler.length < 3) {
      settle(null, null);
    }
  });
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch (error) {
    throw new Fault('Runtime.MarshalError', `Unable to stringify response body: ${error.message}`);
  }
}

// End this worker if the emulator is gone (killed without closing it), even while a
// handler never settles.
function exitWithParent() {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1000).unref();
}

async function main() {
  exitWithParent();
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    const document = errorDocument(error);
    logError(document);
    mark('init');
    writeFrame({ type: 'init_error', error: document });
    process.exit(1);
  }
  mark('init');
  writeFrame({ type: 'ready' });

  let pending = Buffer.alloc(0);
  const queue = [];
  let running = false;
  const pump = async () => {
    if (running) return;
    running = true;
    while (queue.length) {
      const request = queue.shift();
      currentRequestId = request.request_id;
      if (request.trace_id) process.env._X_AMZN_TRACE_ID = request.trace_id;
      let ok = true;
      let body;
      try {
        body = await invoke(handler, request);
      } catch (error) {
        ok = false;
        const document = errorDocument(error);
        logError(document);
        body = JSON.stringify(document);
      }
      mark(request.seq);
      writeFrame({ type: 'result', seq: request.seq, ok, body, max_rss_kb: process.resourceUsage().maxRSS });
    }
    running = false;
  };
  process.stdin.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      queue.push(JSON.parse(pending.subarray(4, 4 + length).toString()));
      pending = pending.subarray(4 + length);
    }
    pump();
  });
  process.stdin.on('end', () => process.exit(0));
}

main();
