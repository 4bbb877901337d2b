"""virt/ (virt/kvm: the generic KVM code)"""
