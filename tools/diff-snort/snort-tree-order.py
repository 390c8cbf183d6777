# gdb script: prints, for each rule tree Snort 2.9.20 evaluates (detection_options.c detection_option_tree_evaluate),
# the sids of its leaves in the order the depth-first walk reaches them, as `ROOT sid,sid,...` lines. Used with
# seeded-outcomes.sh's seed shim to read the order Snort drew (fpcreate.c adds a port group's rules in sfghash order).
# gdb -batch -ex 'set environment SEED=1' -ex 'set environment LD_PRELOAD=seed.so' -x snort-tree-order.py --args snort ...
import gdb


def leaves(node):
    if int(node['option_type']) == 0:  # RULE_OPTION_TYPE_LEAF_NODE: option_data is the rule's OptTreeNode
        otn = node['option_data'].cast(gdb.lookup_type('OptTreeNode').pointer())
        return [int(otn['sigInfo']['id'])]
    out = []
    for i in range(min(int(node['num_children']), 4096)):
        out += leaves(node['children'][i])
    return out


class TreeOrder(gdb.Breakpoint):
    def stop(self):
        root = gdb.parse_and_eval('root')
        sids = []
        for i in range(min(int(root['num_children']), 4096)):
            sids += leaves(root['children'][i])
        print('ROOT ' + ','.join(str(s) for s in sids))
        return False


TreeOrder('detection_option_tree_evaluate')
gdb.execute('run')
