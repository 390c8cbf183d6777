/**
 * `honeywall convert [PATH...] --policy FILE [--conf snort.conf] [--honeynet] [--out DIR] [--dialect snort|suricata]
 * [--input-dialect snort|suricata|auto] [--seed N] [--report json|text]`: the snortconfig successor. Exit 0 when every rule was converted, 1 when any rule
 * (or an included file) was skipped, 2 for usage errors (bad flag, unreadable input, policy error).
 */
import path from 'node:path';
import { type Command, Option } from '../commander.js';
import { EXIT_FINDINGS, UsageError, type CommandContext } from '../program.js';
import { convert, ConvertInputError, DEFAULT_POLICY_PATH, RULESETS_DIR, writeConverted } from '../../transform/convert.js';
import { PolicyError, readPolicyFile, readPolicyFiles } from '../../transform/policy.js';
import { buildReport, formatReport } from '../../transform/report.js';
import { LITERAL_ADDRESS_POLICIES, type LiteralAddressPolicy } from '../../transform/reverse.js';
import type { Dialect } from '../../transform/convert-rule.js';
import { inputDialectOption } from './input-dialect.js';
import type { InputDialect } from '../../suricata/index.js';

interface ConvertFlags {
  policy: string[];
  conf?: string;
  honeynet?: boolean;
  out?: string;
  dialect: Dialect;
  inputDialect: InputDialect;
  seed: string;
  report: 'json' | 'text';
  testRules?: boolean;
  literalAddresses: LiteralAddressPolicy;
  onBadRule: 'keep' | 'disable';
  resolveFlowbits?: boolean;
}

export function registerConvert(program: Command, ctx: CommandContext): void {
  program
    .command('convert')
    .description('convert rule sets for a honeynet gateway (snortconfig successor): policy actions, direction reversal, replace')
    .argument('[paths...]', 'rule files, directories of *.rules, or a snort.conf whose includes are followed')
    .option(
      '--policy <file>',
      'policy file, repeatable: honeywall INI, or enable.conf, disable.conf, drop.conf, modify.conf, enablesid.conf, disablesid.conf, dropsid.conf, modifysid.conf by name (default: the bundled rulesets/honeywall-policy.conf)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--conf <snort.conf>', 'a snort.conf whose include lines (also "# include") are followed; a rewritten copy is written')
    .option('--honeynet', 'reverse direction (swap source/destination addresses when both are variables); inline actions')
    .option('--out <dir>', 'write one output file per input (same basename) into this directory; without it nothing is written')
    .addOption(new Option('--dialect <dialect>', 'output dialect (what is written)').choices(['snort', 'suricata']).default('snort'))
    .addOption(inputDialectOption())
    .option('--seed <n>', 'seed of the replace bytes (output is deterministic for a seed)', '0')
    .addOption(new Option('--report <format>', 'report format, on stdout').choices(['json', 'text']).default('text'))
    .option('--test-rules', 'add the bundled test rules (drop outbound Telnet, rewrite outbound HTTP GET), enabled')
    .addOption(
      new Option('--literal-addresses <mode>', 'with --honeynet: rules whose addresses are not both variables')
        .choices([...LITERAL_ADDRESS_POLICIES])
        .default('keep'),
    )
    .addOption(
      new Option('--on-bad-rule <mode>', 'a rule that cannot be converted is passed through (keep) or commented out (disable)')
        .choices(['keep', 'disable'])
        .default('keep'),
    )
    .option('--resolve-flowbits', 'keep enabled the flowbits setters that enabled rules check (flowbits:noalert added), as suricata-update does')
    .action((paths: string[], flags: ConvertFlags) => {
      if (paths.length === 0 && !flags.conf && !flags.testRules)
        throw new UsageError('convert: give rule files, directories or a snort.conf (or --conf)');
      if (!/^\d+$/.test(flags.seed) || Number(flags.seed) > 0xffffffff)
        throw new UsageError(`--seed must be an integer 0..4294967295, got '${flags.seed}'`);
      let policy;
      try {
        // The bundled policy is named as it is in the package (rulesets/...), wherever the package is installed.
        policy =
          flags.policy.length === 0
            ? readPolicyFile(DEFAULT_POLICY_PATH, path.relative(path.resolve(RULESETS_DIR, '..'), DEFAULT_POLICY_PATH))
            : readPolicyFiles(flags.policy.map((p) => ({ path: p })));
      } catch (e) {
        if (e instanceof PolicyError) throw new UsageError(`policy: ${e.message}`);
        throw e;
      }
      const opts = {
        paths,
        conf: flags.conf,
        outDir: flags.out,
        testRules: flags.testRules ?? false,
        policy,
        honeynet: flags.honeynet ?? false,
        literalAddresses: flags.literalAddresses,
        dialect: flags.dialect,
        inputDialect: flags.inputDialect,
        seed: Number(flags.seed),
        onBadRule: flags.onBadRule,
        resolveFlowbits: flags.resolveFlowbits ?? false,
      };
      let result;
      try {
        result = convert(opts);
        if (flags.out) writeConverted(result, flags.out);
      } catch (e) {
        if (e instanceof ConvertInputError) throw new UsageError(`convert: ${e.message}`);
        throw e;
      }
      const report = buildReport(result, {
        policy: policy.file,
        honeynet: opts.honeynet,
        dialect: opts.dialect,
        seed: opts.seed,
        literalAddresses: opts.literalAddresses,
      });
      if (flags.report === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else {
        process.stdout.write(formatReport(report));
        if (!flags.out) process.stdout.write('(dry run: no --out, nothing written)\n');
      }
      if (report.totals.skipped > 0 || report.missingIncludes.length > 0 || report.untranslated.length > 0) ctx.exitCode = EXIT_FINDINGS;
    });
}
