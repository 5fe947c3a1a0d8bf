#!/usr/bin/env node
// Checks Adaptive Cards with Microsoft's own `adaptivecards` parser, so Python tests can prove that every
// card Partsbot sends to Teams parses cleanly.
//
// Input (stdin):  a JSON array of Adaptive Card objects (the `content` of each attachment).
// Output (stdout): a JSON array with one entry per card, in input order:
//                  {"index": 0, "errors": ["UnknownElementType: ...", ...], "warnings": [...]}
// Exit code: 0 whenever the input was a JSON array (look at `errors` for the verdict);
//            2 when stdin is not a JSON array, or an option is bad (message on stderr).
//
// Options:
//   --max-version X.Y  highest card version the target host renders (default 1.5: Teams desktop and
//                      mobile render 1.5; newer cards show the fallback text instead of the card)
//   --max-bytes N      largest accepted card as UTF-8 JSON (default 28000: Teams rejects activities with
//                      cards around 28 kB, so we stay under it)
//
// Usage: echo '[{"type":"AdaptiveCard","version":"1.5","body":[]}]' | node tools/node/validate-cards.js
"use strict";

// The package's `lib/` build is ES modules with extension-less relative imports that Node cannot resolve
// (ERR_MODULE_NOT_FOUND in Node 20), so load the self-contained UMD bundle instead. Parsing and validation
// need no DOM; only rendering would, and we never render here.
const AC = require("adaptivecards/dist/adaptivecards.js");

// Events the library itself reports that a card author should hear about but that do not break a card.
const WARNING_EVENTS = new Set([
  AC.ValidationEvent.Hint,
  AC.ValidationEvent.Deprecated,
  AC.ValidationEvent.RequiredInputsShouldHaveLabel,
  AC.ValidationEvent.RequiredInputsShouldHaveErrorMessage,
]);

function parseArgs(argv) {
  const options = { maxVersion: [1, 5], maxBytes: 28000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--max-version" && value !== undefined) {
      const version = parseVersion(value);
      if (version === null) throw new Error(`--max-version wants MAJOR.MINOR, got ${JSON.stringify(value)}`);
      options.maxVersion = version;
      i++;
    } else if (arg === "--max-bytes" && value !== undefined && /^[0-9]+$/.test(value)) {
      options.maxBytes = Number(value);
      i++;
    } else {
      throw new Error(`unknown or incomplete option ${JSON.stringify(arg)}`);
    }
  }
  return options;
}

function parseVersion(text) {
  const match = /^([0-9]+)\.([0-9]+)$/.exec(String(text));
  return match ? [Number(match[1]), Number(match[2])] : null;
}

function eventName(event) {
  return AC.ValidationEvent[event] || `Event${event}`;
}

// The library is lenient by design (it skips what it does not understand so that old clients still render
// something), so a few mistakes pass its parser silently. These checks catch the ones we have made.
function ownChecks(card, options) {
  const errors = [];
  if (card === null || typeof card !== "object" || Array.isArray(card)) {
    return ["NotAnObject: a card must be a JSON object"];
  }
  if (card.type !== "AdaptiveCard") {
    errors.push(`MissingCardType: "type" must be "AdaptiveCard", got ${JSON.stringify(card.type)}`);
  }
  const version = parseVersion(card.version);
  if (version === null) {
    errors.push(`InvalidVersion: "version" must be a string like "1.5", got ${JSON.stringify(card.version)}`);
  } else if (
    version[0] > options.maxVersion[0] ||
    (version[0] === options.maxVersion[0] && version[1] > options.maxVersion[1])
  ) {
    errors.push(
      `UnsupportedCardVersion: version ${card.version} is newer than ${options.maxVersion.join(".")}, ` +
        "the highest the target host renders",
    );
  }
  for (const key of ["body", "actions"]) {
    if (key in card && !Array.isArray(card[key])) {
      errors.push(`InvalidPropertyValue: "${key}" must be an array`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(card), "utf8");
  if (bytes > options.maxBytes) {
    errors.push(`TooLarge: ${bytes} bytes as JSON, the limit is ${options.maxBytes}`);
  }
  return errors;
}

function checkCard(card, index, options) {
  const errors = ownChecks(card, options);
  const warnings = [];
  if (errors.length > 0 && errors[0].startsWith("NotAnObject")) {
    return { index, errors, warnings };
  }
  const report = (event, message) => {
    const line = `${eventName(event)}: ${message}`;
    (WARNING_EVENTS.has(event) ? warnings : errors).push(line);
  };
  try {
    const parsed = new AC.AdaptiveCard();
    const context = new AC.SerializationContext();
    parsed.parse(card, context);
    for (let i = 0; i < context.eventCount; i++) {
      const event = context.getEventAt(i);
      report(event.event, event.message);
    }
    // Parse events cover unknown types and bad values; validateProperties adds the card-level rules
    // (duplicate ids, inputs without id, unsupported versions, too many actions, ...).
    for (const event of parsed.validateProperties().validationEvents) {
      report(event.event, event.message);
    }
  } catch (error) {
    errors.push(`Exception: ${error && error.message ? error.message : String(error)}`);
  }
  return { index, errors, warnings };
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`validate-cards: ${error.message}\n`);
    process.exit(2);
  }
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => {
    let cards;
    try {
      cards = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      process.stderr.write(`validate-cards: stdin is not JSON: ${error.message}\n`);
      process.exit(2);
    }
    if (!Array.isArray(cards)) {
      process.stderr.write("validate-cards: stdin must be a JSON array of cards\n");
      process.exit(2);
    }
    const results = cards.map((card, index) => checkCard(card, index, options));
    process.stdout.write(`${JSON.stringify(results)}\n`);
  });
}

main();
