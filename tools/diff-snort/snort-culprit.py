# gdb script (tools/diff-snort/snort.ts): run inside a Snort 2.9.20 that the watchdog found stuck, it prints the
# gid:sid of the rules under the innermost detection option node being evaluated (detection_options.c
# detection_option_node_evaluate): the rule whose options Snort loops on. That rule need not be the stuck capture's
# own: Snort checks a rule's addresses only at its leaf (fpEvalRTN), after its options, so every rule of the batch
# whose ports fit runs its options on every capture. Bounded: at most 4096 tree nodes are visited.
import gdb
out = []
f = gdb.newest_frame()
while f is not None:
    if f.name() == 'detection_option_node_evaluate':
        try:
            node = f.read_var('node')
        except Exception:
            node = None
        if node is not None:
            stack = [node]
            seen = 0
            while stack and seen < 4096:
                n = stack.pop()
                seen += 1
                if str(n['option_type']) == 'RULE_OPTION_TYPE_LEAF_NODE':
                    otn = n['option_data'].cast(gdb.lookup_type('OptTreeNode').pointer())
                    out.append('%d:%d' % (int(otn['sigInfo']['generator']), int(otn['sigInfo']['id'])))
                else:
                    for i in range(int(n['num_children'])):
                        stack.append(n['children'][i])
            break
    f = f.older()
print('CULPRIT ' + ' '.join(out))
