"""virt/kvm/"""
